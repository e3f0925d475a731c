// The README's "Beast over io_uring": a complete HTTP server in ~40 lines. Usage: beast_hello
// [PORT]
#include <asio_uring.hpp>
#include <asio_uring/beast.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio_uring::ip::tcp;

asio::awaitable<void> session(asio_uring::tcp_stream stream) {
  boost::beast::flat_buffer buffer;
  for (;;) { // errors (EOF, timeout) end the coroutine with an exception: the stream closes
    stream.expires_after(std::chrono::seconds(30)); // kernel-enforced: IORING_OP_LINK_TIMEOUT
    http::request<http::string_body> req;
    co_await http::async_read(stream, buffer, req, asio::use_awaitable);
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = "Hello from io_uring, you asked for " + std::string(req.target()) + "\n";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::use_awaitable);
    if (!res.keep_alive())
      co_return;
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), session(asio_uring::tcp_stream(std::move(socket))),
                   asio::detached);
  }
}

int main(int argc, char** argv) {
  asio_uring::io_context ctx;
  auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
  tcp::acceptor acceptor(ctx, tcp::endpoint(tcp::v4(), port));
  std::cout << "beast_hello: http://127.0.0.1:" << acceptor.local_endpoint().port() << "/"
            << std::endl;
  asio::co_spawn(ctx, listen(acceptor), asio::detached);
  asio_uring::signal_set signals(ctx, SIGINT, SIGTERM); // Ctrl-C: a clean exit
  signals.async_wait([&](auto, int) { ctx.stop(); });
  ctx.run();
}
