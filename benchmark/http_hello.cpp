// Hello-world HTTP/1.1 server with Beast, one source built three ways (benchmark/CMakeLists.txt):
//   http_hello_asio_epoll      boost::asio::io_context (epoll)
//   http_hello_asio_io_uring   the same on Asio's io_uring backend (BOOST_ASIO_HAS_IO_URING,
//                              BOOST_ASIO_DISABLE_EPOLL)
//   http_hello_asio_uring      HTTP_HELLO_ASIO_URING: asio_uring's io_context, socket, acceptor
//                              and signal_set; Beast runs on asio_uring's borrowed-buffer API.
// Written the idiomatic Beast way: callbacks, one session per connection owning a flat_buffer,
// a request_parser<string_body> made for each request, http::async_read, then http::async_write
// of a 200 `Hello, world!` text/plain response; the connection stays open while requests ask
// for keep-alive, else the server shuts down its send side. run_http.py drives it with wrk;
// see http_common.hpp for the interface.
#include "http_common.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#if defined(HTTP_HELLO_ASIO_URING)
#include <asio_uring.hpp>
#else
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#endif

#include <memory>
#include <optional>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
#if defined(HTTP_HELLO_ASIO_URING)
using asio_uring::io_context;
using asio_uring::signal_set;
using asio_uring::ip::tcp;
#else
using asio::io_context;
using asio::signal_set;
using asio::ip::tcp;
#endif

namespace {

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read() {
    parser_.emplace(); // a parser reads one message: a fresh one per request
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (!ec) // else end of stream or an error: the session ends here
                         self->respond();
                     });
  }

private:
  void respond() {
    const http::request<http::string_body>& req = parser_->get();
    http::response<http::string_body>& res = response_.emplace(http::status::ok, req.version());
    res.set(http::field::server, bench::http_server_name);
    res.set(http::field::content_type, bench::http_content_type);
    res.keep_alive(req.keep_alive());
    res.body() = bench::http_hello_body;
    res.prepare_payload();
    parser_.reset(); // an idle connection keeps only its buffer
    http::async_write(socket_, res, [self = shared_from_this()](error_code ec, std::size_t) {
      self->written(ec);
    });
  }

  void written(error_code ec) {
    bool keep_alive = response_->keep_alive();
    response_.reset();
    if (ec)
      return;
    if (keep_alive)
      read();
    else
      socket_.shutdown(tcp::socket::shutdown_send, ec); // the session ends: the socket closes
  }

  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](error_code ec, tcp::socket socket) {
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
  io_context io(1); // one thread runs it (Asio: its single-thread fast paths)
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](error_code, int) {
    acceptor.close();
    io.stop();
  });
  bench::print_echo_port(acceptor.local_endpoint().port());
  accept(acceptor);
  io.run();
  return 0;
}
