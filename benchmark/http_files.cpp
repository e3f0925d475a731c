// Static-file HTTP/1.1 server with Beast, written the way an experienced Asio user writes one for
// epoll today: the same-run baseline for example/http_server in `run_http.py --files`. One source
// built two ways (benchmark/CMakeLists.txt):
//   http_files_asio_epoll      boost::asio::io_context (epoll)
//   http_files_asio_io_uring   the same on Asio's io_uring backend (BOOST_ASIO_HAS_IO_URING,
//                              BOOST_ASIO_DISABLE_EPOLL)
// In the style of Beast's advanced/async server examples: callbacks, one session per connection
// owning a beast::tcp_stream (30 s deadline per read and per write, as example/http_server has
// deadlines) and a flat_buffer, a request_parser<string_body> per request, keep-alive honoured.
// GET and HEAD of files under the document root; other methods 405, a target that is not
// absolute or holds ".." 400, a missing file 404. Per request it does what example/http_server's
// file_response.cpp does: realpath (the resolved path must stay under the root), stat (a
// directory serves its index.html), then http::file_body's open (open, posix_fadvise, fstat),
// Content-Type by extension (the example's own table), Content-Length. The body is sent with
// http::file_body: Beast's blocking read(2) of 4 KiB at a time, each sent with http::async_write.
// Not done (example/http_server does): percent-decoding, Range, Date and Last-Modified headers.
//   http_files_asio_epoll --port N --root DIR
// Port 0 picks a free one; prints `port=N` first on stdout; 127.0.0.1, one thread; exits 0 on
// SIGINT or SIGTERM (http_common.hpp's interface, with run_http.py's file-server arguments).
#include "http_common.hpp"

#include "../example/http_server/mime_types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto timeout = std::chrono::seconds(30);

// realpath(3), or "" when the path does not resolve.
std::string real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> p(::realpath(path.c_str(), nullptr), &std::free);
  return p ? std::string(p.get()) : std::string();
}

// The file `target` (absolute, no "..", no query) names under `root` (canonical), or "".
std::string find_file(std::string_view target, const std::string& root) {
  std::string path = real_path(root + std::string(target));
  const auto inside = [&root](const std::string& p) { // no symlink leads out of the root
    return root == "/" || (p.size() > root.size() && p.compare(0, root.size(), root) == 0 &&
                           p[root.size()] == '/');
  };
  struct stat st {};
  if (path.empty() || !inside(path) || ::stat(path.c_str(), &st) != 0)
    return {};
  if (S_ISDIR(st.st_mode)) {
    path = real_path(path + "/index.html");
    if (path.empty() || !inside(path) || ::stat(path.c_str(), &st) != 0)
      return {};
  }
  return S_ISREG(st.st_mode) ? path : std::string(); // a FIFO would block file_body's open
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, const std::string& root) : stream_(std::move(socket)), root_(root) {}

  void read() {
    parser_.emplace(); // a parser reads one message: a fresh one per request
    stream_.expires_after(timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (ec == http::error::end_of_stream)
                         self->close();
                       else if (!ec) // else an error or a timeout: the session ends here
                         self->respond();
                     });
  }

private:
  void respond() {
    http::request<http::string_body> req = parser_->release();
    parser_.reset(); // an idle connection keeps only its buffer
    const bool head = req.method() == http::verb::head;
    if (!head && req.method() != http::verb::get) {
      auto res = status(http::status::method_not_allowed, req);
      res.set(http::field::allow, "GET, HEAD");
      return send(std::move(res));
    }
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find_first_of("?#"));
    if (target.empty() || target.front() != '/' || target.find("..") != std::string_view::npos)
      return send(status(http::status::bad_request, req));

    error_code ec;
    http::file_body::value_type body;
    const std::string path = find_file(target, root_);
    if (!path.empty())
      body.open(path.c_str(), beast::file_mode::scan, ec);
    if (path.empty() || ec)
      return send(status(http::status::not_found, req));
    const std::uint64_t size = body.size();
    const std::string_view type = http_server::mime_type(path);
    if (head) { // the same header, no body (the file closes with `body`)
      http::response<http::empty_body> res{http::status::ok, req.version()};
      res.set(http::field::server, bench::http_server_name);
      res.set(http::field::content_type, type);
      res.content_length(size);
      res.keep_alive(req.keep_alive());
      return send(std::move(res));
    }
    http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                        std::make_tuple(http::status::ok, req.version())};
    res.set(http::field::server, bench::http_server_name);
    res.set(http::field::content_type, type);
    res.content_length(size);
    res.keep_alive(req.keep_alive());
    send(std::move(res));
  }

  static http::response<http::string_body> status(http::status s,
                                                  const http::request<http::string_body>& req) {
    http::response<http::string_body> res{s, req.version()};
    res.set(http::field::server, bench::http_server_name);
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    res.body() = std::string(http::obsolete_reason(s)) + "\n";
    res.prepare_payload();
    return res;
  }

  // The response lives on the heap until its write completes (Beast's examples keep it so).
  template <class Body>
  void send(http::response<Body>&& response) {
    auto res = std::make_shared<http::response<Body>>(std::move(response));
    stream_.expires_after(timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](error_code ec, std::size_t) {
      if (ec)
        return;
      if (res->keep_alive())
        self->read();
      else
        self->close();
    });
  }

  void close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec); // the session ends: it closes
  }

  beast::tcp_stream stream_;
  const std::string& root_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

void accept(tcp::acceptor& acceptor, const std::string& root) {
  acceptor.async_accept([&acceptor, &root](error_code ec, tcp::socket socket) {
    if (!acceptor.is_open())
      return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(socket), root)->read();
    }
    accept(acceptor, root);
  });
}

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --port N --root DIR (port 0: any; printed as port=N)\n", argv0);
  std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
  long port = -1;
  std::string root;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view opt = argv[i];
    if (opt == "--port")
      port = std::strtol(argv[i + 1], nullptr, 10);
    else if (opt == "--root")
      root = real_path(argv[i + 1]);
    else
      usage(argv[0]);
  }
  if (argc % 2 == 0 || port < 0 || port > 65535 || root.empty())
    usage(argv[0]);
  bench::prepare_echo_process(); // fd limit up, SIGPIPE ignored
  asio::io_context io(1);        // one thread runs it (Asio: its single-thread fast paths)
  tcp::acceptor acceptor(
      io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port)));
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](error_code, int) {
    acceptor.close();
    io.stop();
  });
  bench::print_echo_port(acceptor.local_endpoint().port());
  accept(acceptor, root);
  io.run();
  return 0;
}
