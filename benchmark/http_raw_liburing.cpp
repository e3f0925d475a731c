// The ceiling: an HTTP/1.1 responder with raw liburing and no HTTP parsing. One ring
// (SINGLE_ISSUER | DEFER_TASKRUN when the kernel takes them), a multishot accept, and per
// connection RECV, count the request ends ("\r\n\r\n", also across receives), SEND the canned
// response of http_common.hpp once per request, RECV again; keep-alive always (Connection:
// close is not looked at; requests with bodies are not supported). One io_uring_submit_and_wait
// per loop turn, SIGTERM/SIGINT through a signalfd read, as echo_raw_liburing.cpp.
#include "http_common.hpp"
#include "raw_ring.hpp"

#include <liburing.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// user_data: a connection pointer (8-aligned) with the operation in the low bits.
enum op : std::uint64_t { op_accept = 0, op_signal = 1, op_recv = 2, op_send = 3 };

// Requests here are tens of bytes; a larger pipelined burst takes several receives.
constexpr std::size_t recv_buffer_size = 1024;
// Responses to pipelined requests go out in one send of up to this many copies.
constexpr unsigned batch_responses = 32;
char responses[batch_responses * bench::http_canned_response.size()];

struct alignas(8) connection {
  explicit connection(int f) : fd(f) {} // leaves the buffer untouched: no page faults yet
  int fd;
  unsigned matched = 0; // bytes of "\r\n\r\n" matched at the end of what came in so far
  unsigned pending = 0; // responses still to send
  unsigned len = 0;     // bytes of the send in progress
  unsigned sent = 0;    // of those, bytes sent so far
  char buffer[recv_buffer_size];
};

// Counts the request ends in [p, p + n), carrying a partial match over in c.matched.
unsigned count_requests(connection* c, const char* p, std::size_t n) {
  static constexpr char end[] = "\r\n\r\n";
  unsigned requests = 0, m = c->matched;
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == end[m])
      m = m + 1;
    else
      m = p[i] == '\r' ? 1 : 0; // "\r\n\r" then '\r' ends in "\r": the only overlap
    if (m == 4) {
      ++requests;
      m = 0;
    }
  }
  c->matched = m;
  return requests;
}

using bench::raw::get_sqe;
using bench::raw::ring;

void set_data(io_uring_sqe* sqe, connection* c, op o) {
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(c) | o);
}

void start_accept(int listen_fd) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  set_data(sqe, nullptr, op_accept);
}

void start_recv(connection* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv(sqe, c->fd, c->buffer, sizeof c->buffer, 0);
  set_data(sqe, c, op_recv);
}

void start_send(connection* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c->fd, responses + c->sent, c->len - c->sent, MSG_NOSIGNAL);
  set_data(sqe, c, op_send);
}

// The next batch of responses, or the next receive when none is pending.
void next(connection* c) {
  if (c->pending == 0) {
    start_recv(c);
    return;
  }
  unsigned n = c->pending < batch_responses ? c->pending : batch_responses;
  c->pending -= n;
  c->len = static_cast<unsigned>(n * bench::http_canned_response.size());
  c->sent = 0;
  start_send(c);
}

void close_connection(connection* c) {
  ::close(c->fd); // nothing else is in flight on it: each connection has one operation at a time
  delete c;
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = bench::parse_echo_port(argc, argv);
  bench::prepare_echo_process();
  for (unsigned i = 0; i < batch_responses; ++i)
    std::memcpy(responses + i * bench::http_canned_response.size(),
                bench::http_canned_response.data(), bench::http_canned_response.size());

  int signal_fd = bench::raw::stop_signals_fd();

  bench::raw::init_ring();
  int listen_fd = bench::raw::listen_on(port);
  start_accept(listen_fd);
  signalfd_siginfo siginfo;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, signal_fd, &siginfo, sizeof siginfo, 0);
  set_data(sqe, nullptr, op_signal);

  for (bool stop = false; !stop;) {
    int r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      std::fprintf(stderr, "io_uring_submit_and_wait: %s\n", std::strerror(-r));
      return 1;
    }
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      auto* c = reinterpret_cast<connection*>(cqe->user_data & ~std::uint64_t{7});
      switch (static_cast<op>(cqe->user_data & 7)) {
      case op_accept:
        if (cqe->res >= 0) {
          int one = 1;
          ::setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          start_recv(new connection(cqe->res));
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) // the kernel ended the multishot: re-arm it
          start_accept(listen_fd);
        break;
      case op_signal:
        stop = true;
        break;
      case op_recv:
        if (cqe->res <= 0) { // peer closed, or an error: either way the connection is done
          close_connection(c);
          break;
        }
        c->pending += count_requests(c, c->buffer, static_cast<std::size_t>(cqe->res));
        next(c);
        break;
      case op_send:
        if (cqe->res <= 0) {
          close_connection(c);
          break;
        }
        c->sent += static_cast<unsigned>(cqe->res);
        if (c->sent < c->len) // short send: the rest
          start_send(c);
        else
          next(c);
        break;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  return 0;
}
