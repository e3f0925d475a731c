// Echo server on asio_uring::io_context, written like echo_asio.cpp (callbacks, one session
// object per connection, read then write of what was read) in one of three buffer styles,
// chosen at compile time (benchmark/CMakeLists.txt builds all three):
//   ECHO_MODE_OWNED     echo_asio_uring_owned: a 16 KiB asio_uring::heap_buffer per connection
//                       moves into async_receive and comes back with it; asio_uring::async_write
//                       of slice(0, n) sends what came in and hands the whole buffer back.
//                       (heap_buffer is not zero-filled: an idle connection touches one page,
//                       as the borrowed server's array; a std::vector would touch 16 KiB.)
//   ECHO_MODE_BORROWED  echo_asio_uring_borrowed: echo_asio.cpp with asio_uring's types (a
//                       16 KiB array in the session, asio::buffer views, asio::async_write).
//   ECHO_MODE_RING      echo_asio_uring_ring: async_receive(ring) from one buffer_ring of
//                       1024 x 16 KiB shared by all connections, then a borrowed
//                       asio::async_write straight from the ring_buffer, which the write's
//                       handler keeps alive and which returns to the ring when the handler
//                       ends. No copy, and no buffer per connection: an idle one holds none.
// See echo_common.hpp for the interface run_echo.py expects.
#include "echo_common.hpp"

#include <asio_uring.hpp>

#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <vector>

#if defined(ECHO_MODE_OWNED) + defined(ECHO_MODE_BORROWED) + defined(ECHO_MODE_RING) != 1
#error "define exactly one of ECHO_MODE_OWNED, ECHO_MODE_BORROWED, ECHO_MODE_RING"
#endif

namespace asio = boost::asio;
using asio_uring::ip::tcp;
using boost::system::error_code;

namespace {

#if defined(ECHO_MODE_OWNED)

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read(asio_uring::heap_buffer buffer) {
    socket_.async_receive(
        std::move(buffer),
        [self = shared_from_this()](error_code ec, std::size_t n, asio_uring::heap_buffer buffer) {
          if (!ec)
            self->write(std::move(buffer), n);
        });
  }

private:
  void write(asio_uring::heap_buffer buffer, std::size_t n) {
    asio_uring::async_write(socket_, asio_uring::slice(std::move(buffer), 0, n),
                            [self = shared_from_this()](error_code ec, std::size_t, auto part) {
                              if (!ec)
                                self->read(std::move(part).release());
                            });
  }

  tcp::socket socket_;
};

#elif defined(ECHO_MODE_BORROWED)

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              if (!ec)
                                self->write(n);
                            });
  }

private:
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_.data(), n),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, bench::echo_buffer_size> buffer_;
};

#else // ECHO_MODE_RING

// 16 KiB buffers as the other servers use; 1024 of them (16 MiB of address space, touched as
// the kernel cycles through them) leave 4 per connection at 256 ping-pong connections, each of
// which holds at most one message's worth at a time.
constexpr std::size_t ring_buffers = 1024;

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, asio_uring::buffer_ring& ring)
      : socket_(std::move(socket)), ring_(ring) {}

  void read() {
    socket_.async_receive(ring_,
                          [self = shared_from_this()](error_code ec, asio_uring::ring_buffer b) {
                            if (!ec)
                              self->write(std::move(b));
                          });
  }

private:
  void write(asio_uring::ring_buffer b) {
    asio::const_buffer bytes(b.data(), b.size()); // taken before `b` moves into the handler
    asio::async_write(socket_, bytes,
                      [self = shared_from_this(), b = std::move(b)](error_code ec, std::size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  tcp::socket socket_;
  asio_uring::buffer_ring& ring_;
};

#endif

// `start(socket)` starts a session.
template <class Start>
void accept(tcp::acceptor& acceptor, Start start) {
  acceptor.async_accept([&acceptor, start](error_code ec, tcp::socket socket) {
    if (!acceptor.is_open())
      return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      start(std::move(socket));
    }
    accept(acceptor, start);
  });
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = bench::parse_echo_port(argc, argv);
  bench::prepare_echo_process();
  asio_uring::io_context io(1);
#if defined(ECHO_MODE_RING)
  asio_uring::buffer_ring ring(io, ring_buffers, bench::echo_buffer_size);
#endif
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  asio_uring::signal_set signals(io, SIGINT, SIGTERM); // through the ring: no extra thread
  signals.async_wait([&](error_code, int) {
    acceptor.close();
    io.stop();
  });
  bench::print_echo_port(acceptor.local_endpoint().port());
#if defined(ECHO_MODE_OWNED)
  accept(acceptor, [](tcp::socket s) {
    std::make_shared<session>(std::move(s))->read(asio_uring::heap_buffer(bench::echo_buffer_size));
  });
#elif defined(ECHO_MODE_BORROWED)
  accept(acceptor, [](tcp::socket s) { std::make_shared<session>(std::move(s))->read(); });
#else
  accept(acceptor,
         [&ring](tcp::socket s) { std::make_shared<session>(std::move(s), ring)->read(); });
#endif
  io.run();
  return 0;
}
