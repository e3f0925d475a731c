// Load generator for the echo servers, independent of the code under test: one thread, plain
// epoll, non-blocking sockets.
//
//   echo_load HOST PORT CONNECTIONS MSG_SIZE SECONDS [WARMUP_SECONDS (default 1)]
//
// Each connection plays ping-pong: send MSG_SIZE bytes, receive MSG_SIZE bytes back, check the
// first and last byte (they carry a per-message tag, so a stale or misordered echo shows), and
// repeat. After the warmup it prints `measure_start`, after SECONDS more `measure_end` (run_echo.py
// samples the server's CPU time at both lines), then one result line:
//
//   msgs_per_s=123456 p50_us=12.3 p99_us=45.6 errors=0 msgs=370368 window_s=3.000
//
// Latency is per round trip (first send to last byte received), over the messages completed in
// the measured window. Any connect/socket error, mismatch, or connection closed by the server
// counts in errors; the exit status is 1 if errors > 0 (or nothing completed in the window).
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

std::uint64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

struct connection {
  int fd = -1;
  std::uint8_t tag = 0;     // first byte of the message in flight; the last is tag ^ 0xa5
  std::size_t sent = 0;     // bytes of the message in flight sent so far
  std::size_t received = 0; // and received back
  bool want_out = false;    // EPOLLOUT registered, after a partial send
  std::uint64_t start_ns = 0;
};

class load {
public:
  load(std::size_t msg_size) : msg_(msg_size), scratch_(msg_size) {
    for (std::size_t i = 0; i < msg_size; ++i)
      msg_[i] = static_cast<char>('a' + i % 26);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  }

  bool connect_all(const char* host, const char* port, int count) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* ai = nullptr;
    if (int r = ::getaddrinfo(host, port, &hints, &ai); r != 0) {
      std::fprintf(stderr, "getaddrinfo: %s\n", ::gai_strerror(r));
      return false;
    }
    conns_.resize(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      connection& c = conns_[i];
      c.tag = static_cast<std::uint8_t>(i * 37); // differs between connections: crossed echoes show
      // A blocking connect (simple, and on loopback quick), then non-blocking for the echo.
      c.fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0 || ::connect(c.fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        std::fprintf(stderr, "connect: %s\n", std::strerror(errno));
        ++errors_;
        if (c.fd >= 0)
          ::close(c.fd);
        c.fd = -1;
        continue;
      }
      ++alive_;
      int one = 1;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
    }
    ::freeaddrinfo(ai);
    return alive_ > 0;
  }

  void run(double seconds, double warmup) {
    for (connection& c : conns_)
      if (c.fd >= 0)
        next_message(c, now_ns());
    const std::uint64_t start = now_ns();
    const std::uint64_t measure_start = start + static_cast<std::uint64_t>(warmup * 1e9);
    const std::uint64_t measure_end = measure_start + static_cast<std::uint64_t>(seconds * 1e9);
    samples_.reserve(1 << 20);
    std::vector<epoll_event> events(conns_.size());
    while (alive_ > 0) {
      std::uint64_t now = now_ns();
      if (!measuring_ && now >= measure_start) {
        measuring_ = true;
        window_start_ = now;
        std::printf("measure_start\n");
        std::fflush(stdout);
      }
      if (measuring_ && now >= measure_end)
        break;
      std::uint64_t next = measuring_ ? measure_end : measure_start;
      int timeout_ms = static_cast<int>((next - now + 999'999) / 1'000'000);
      int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
      for (int i = 0; i < n; ++i) {
        connection& c = conns_[events[i].data.u64];
        if (c.fd < 0)
          continue;
        if ((events[i].events & EPOLLOUT) && c.want_out)
          send_some(c);
        if (c.fd >= 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
          receive_some(c);
      }
    }
    window_end_ = now_ns();
    std::printf("measure_end\n");
    std::fflush(stdout);
  }

  int report() {
    if (!measuring_) // every connection failed during the warmup
      window_start_ = window_end_;
    double window_s = static_cast<double>(window_end_ - window_start_) / 1e9;
    double p50 = 0, p99 = 0;
    if (!samples_.empty()) {
      std::sort(samples_.begin(), samples_.end());
      auto at = [&](double q) { // nearest rank
        std::size_t rank =
            static_cast<std::size_t>(q * static_cast<double>(samples_.size()) + 0.999999);
        return static_cast<double>(samples_[std::max<std::size_t>(rank, 1) - 1]) / 1e3;
      };
      p50 = at(0.50);
      p99 = at(0.99);
    }
    double rate = window_s > 0 ? static_cast<double>(samples_.size()) / window_s : 0;
    std::printf("msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f errors=%d msgs=%zu window_s=%.3f\n", rate,
                p50, p99, errors_, samples_.size(), window_s);
    std::fflush(stdout);
    for (connection& c : conns_)
      if (c.fd >= 0)
        ::close(c.fd);
    if (samples_.empty())
      std::fprintf(stderr, "no round trip completed in the measured window\n");
    return errors_ > 0 || samples_.empty() ? 1 : 0;
  }

private:
  void fail(connection& c) {
    ++errors_;
    if (c.fd >= 0) {
      ::close(c.fd); // also takes it out of the epoll set
      c.fd = -1;
      --alive_;
    }
  }

  void next_message(connection& c, std::uint64_t now) {
    ++c.tag;
    c.sent = 0;
    c.received = 0;
    c.start_ns = now;
    send_some(c);
  }

  void send_some(connection& c) {
    // Every connection shares msg_; only its first and last byte differ between them.
    msg_.front() = static_cast<char>(c.tag);
    msg_.back() = static_cast<char>(msg_.size() > 1 ? c.tag ^ 0xa5 : c.tag);
    while (c.sent < msg_.size()) {
      ssize_t n = ::send(c.fd, msg_.data() + c.sent, msg_.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        if (!c.want_out)
          set_want_out(c, true);
        return;
      }
      if (n < 0) {
        std::fprintf(stderr, "send: %s\n", std::strerror(errno));
        fail(c);
        return;
      }
      c.sent += static_cast<std::size_t>(n);
    }
    if (c.want_out)
      set_want_out(c, false);
  }

  void set_want_out(connection& c, bool on) {
    c.want_out = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void receive_some(connection& c) {
    const std::size_t size = msg_.size();
    for (;;) {
      ssize_t n = ::recv(c.fd, scratch_.data(), size - c.received, 0);
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0) {
        std::fprintf(stderr, n == 0 ? "connection closed by the server\n" : "recv: %s\n",
                     std::strerror(errno));
        fail(c);
        return;
      }
      const auto first = static_cast<char>(c.tag);
      const auto last = static_cast<char>(size > 1 ? c.tag ^ 0xa5 : c.tag);
      auto got = static_cast<std::size_t>(n);
      if ((c.received == 0 && size > 1 && scratch_[0] != first) ||
          (c.received + got == size && scratch_[got - 1] != last)) {
        std::fprintf(stderr, "echo content mismatch\n");
        fail(c);
        return;
      }
      c.received += got;
      if (c.received < size)
        continue;
      if (c.sent < size) { // an echo of bytes not sent yet: cannot happen with a correct server
        std::fprintf(stderr, "echo ahead of the request\n");
        fail(c);
        return;
      }
      std::uint64_t now = now_ns();
      if (measuring_) // round trips over 4.29 s are clamped
        samples_.push_back(
            static_cast<std::uint32_t>(std::min<std::uint64_t>(now - c.start_ns, UINT32_MAX)));
      next_message(c, now);
      return;
    }
  }

  std::vector<char> msg_;
  std::vector<char> scratch_;
  std::vector<connection> conns_;
  std::vector<std::uint32_t> samples_; // round trips in the window, ns
  int epoll_fd_ = -1;
  int alive_ = 0;
  int errors_ = 0;
  bool measuring_ = false;
  std::uint64_t window_start_ = 0, window_end_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 6 || argc > 7) {
    std::fprintf(stderr, "usage: %s HOST PORT CONNECTIONS MSG_SIZE SECONDS [WARMUP_SECONDS (1)]\n",
                 argv[0]);
    return 2;
  }
  int connections = std::atoi(argv[3]);
  long msg_size = std::atol(argv[4]);
  double seconds = std::atof(argv[5]);
  double warmup = argc > 6 ? std::atof(argv[6]) : 1.0;
  if (connections <= 0 || msg_size <= 0 || seconds <= 0 || warmup < 0) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  rlimit rl{}; // one fd per connection
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  load l(static_cast<std::size_t>(msg_size));
  if (l.connect_all(argv[1], argv[2], connections))
    l.run(seconds, warmup);
  return l.report();
}
