// Echo server on boost::asio::io_context (epoll, or Asio's io_uring backend when built with
// BOOST_ASIO_HAS_IO_URING and BOOST_ASIO_DISABLE_EPOLL), written the idiomatic way: callbacks,
// one session object per connection owning a 16 KiB buffer, async_read_some then async_write
// of what was read. See echo_common.hpp for the interface run_echo.py expects.
#include "echo_common.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read() {
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (!ec)
            self->write(n);
        });
  }

private:
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_.data(), n),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, bench::echo_buffer_size> buffer_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open())
      return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(socket))->read();
    }
    accept(acceptor);
  });
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = bench::parse_echo_port(argc, argv);
  bench::prepare_echo_process();
  asio::io_context io(1); // hint 1 (one thread runs it): Asio's single-thread fast paths
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    acceptor.close();
    io.stop();
  });
  bench::print_echo_port(acceptor.local_endpoint().port());
  accept(acceptor);
  io.run();
  return 0;
}
