// http_server: the connection loop. Requests are read with Beast's request_parser from a
// flat_buffer that lives as long as the connection, so keep-alive and pipelined requests (bytes
// of the next request read along with this one) are served in order. Deadlines, all enforced by
// asio_uring::tcp_stream (a late operation fails with beast::error::timeout, socket closed):
//   request  from accept, or from the first byte of a later request, to the end of its body
//   idle     between requests on a kept-alive connection
//   send     per write: a header, a file chunk, an echoed body
// Answers: GET/HEAD of files (file_response, file_sender), POST /echo, 405 for other methods;
// unparsable request (Beast's parser also refuses versions other than 1.0 and 1.1) 400, header
// section too large 431, body too large 413: these close the connection after the response.
#include "session.hpp"
#include "file_response.hpp"
#include "file_sender.hpp"

#include <asio_uring/beast.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace http_server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using beast::error_code;
using request = http::request<http::string_body>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// After a response that ends the connection, the peer gets this long to stop sending before
// the close: closing with unread input would reset the connection and could destroy the
// response before the client read it.
constexpr auto linger_time = std::chrono::seconds(2);
constexpr std::size_t linger_bytes = 8 * 1024 * 1024;

std::string_view view(beast::string_view s) {
  return {s.data(), s.size()};
}

http::response<http::string_body> make_status(http::status status, unsigned version,
                                              bool keep_alive) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::to_string(static_cast<unsigned>(status)) + " " +
               std::string(view(http::obsolete_reason(status))) + "\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

template <class Body>
void stamp(http::response<Body>& res) {
  res.set(http::field::server, "asio-uring http_server");
  res.set(http::field::date, http_date(std::time(nullptr)));
}

// Writes `res`, or only its header (HEAD: Content-Length stays that of the body).
template <class Body>
asio::awaitable<error_code> write_response(asio_uring::tcp_stream& stream,
                                           http::response<Body>& res, bool header_only,
                                           const server_config& config) {
  stamp(res);
  http::response_serializer<Body> sr{res};
  stream.expires_after(config.send_timeout);
  if (header_only) {
    auto [ec, n] = co_await http::async_write_header(stream, sr, use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await http::async_write(stream, sr, use_tuple);
  co_return ec;
}

// Serializes the header of `res` into the start of `chunk` (allocated if empty); returns its
// size, or 0 if it does not fit.
std::size_t serialize_header(http::response<http::empty_body>& res,
                             asio_uring::heap_buffer& chunk) {
  if (chunk.size() < file_chunk_size)
    chunk = asio_uring::heap_buffer(file_chunk_size);
  stamp(res);
  http::response_serializer<http::empty_body> sr{res};
  sr.split(true);
  asio::mutable_buffer free_space(chunk.data(), chunk.size());
  std::size_t size = 0;
  error_code ec;
  while (!ec && !sr.is_header_done()) {
    sr.next(ec, [&](error_code&, const auto& buffers) {
      const std::size_t n = asio::buffer_copy(free_space + size, buffers);
      if (n < asio::buffer_size(buffers))
        ec = http::error::buffer_overflow;
      size += n;
      sr.consume(n);
    });
  }
  return ec ? 0 : size;
}

asio::awaitable<void> close_gracefully(asio_uring::tcp_stream& stream) {
  error_code ec;
  stream.socket().shutdown(asio_uring::ip::tcp::socket::shutdown_send, ec);
  stream.expires_after(linger_time);
  std::array<char, 4096> sink;
  for (std::size_t drained = 0; !ec && drained < linger_bytes;) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    ec = rec;
    drained += n;
  }
  stream.close();
}

asio::awaitable<error_code> serve_file(asio_uring::tcp_stream& stream, const request& req,
                                       const server_config& config,
                                       asio_uring::heap_buffer& chunk) {
  const bool head = req.method() == http::verb::head;
  file_target target = open_target(view(req.target()), config.root);
  if (target.status != 200) {
    auto res =
        make_status(target.status == 400 ? http::status::bad_request : http::status::not_found,
                    req.version(), req.keep_alive());
    co_return co_await write_response(stream, res, head, config);
  }
  const std::string modified = http_date(target.modified);
  byte_range range;
  const auto if_range = req.find(http::field::if_range);
  if (req.count(http::field::range) &&
      (if_range == req.end() || view(if_range->value()) == modified)) // If-Range: dates only
    range = parse_range(view(req[http::field::range]), target.size);
  if (range.kind == byte_range::unsatisfiable) {
    auto res = make_status(http::status::range_not_satisfiable, req.version(), req.keep_alive());
    res.set(http::field::content_range, "bytes */" + std::to_string(target.size));
    co_return co_await write_response(stream, res, head, config);
  }
  std::uint64_t first = 0, length = target.size;
  http::response<http::empty_body> res{http::status::ok, req.version()};
  if (range.kind == byte_range::partial) {
    first = range.first;
    length = range.length;
    res.result(http::status::partial_content);
    res.set(http::field::content_range, "bytes " + std::to_string(first) + "-" +
                                            std::to_string(first + length - 1) + "/" +
                                            std::to_string(target.size));
  }
  res.set(http::field::content_type, target.content_type);
  res.set(http::field::accept_ranges, "bytes");
  res.set(http::field::last_modified, modified);
  res.content_length(length);
  res.keep_alive(req.keep_alive());
  asio_uring::random_access_file file(stream.get_executor(), target.fd.release());
  if (head)
    co_return co_await write_response(stream, res, true, config);
  // The header goes out with the file's first chunk, in one send.
  const std::size_t header_size = serialize_header(res, chunk);
  if (header_size == 0) // a header larger than a chunk: on its own
    if (error_code ec = co_await write_response(stream, res, true, config))
      co_return ec;
  co_return co_await send_file_range(stream, file, first, length, config.send_timeout, chunk,
                                     header_size);
}

// The request body goes back as an owned buffer: the std::string moves into the write.
asio::awaitable<error_code> serve_echo(asio_uring::tcp_stream& stream, request& req,
                                       const server_config& config) {
  http::response<http::empty_body> res{http::status::ok, req.version()};
  const auto type = view(req[http::field::content_type]);
  res.set(http::field::content_type, type.empty() ? "application/octet-stream" : type);
  res.content_length(req.body().size());
  res.keep_alive(req.keep_alive());
  if (error_code ec = co_await write_response(stream, res, true, config); ec || req.body().empty())
    co_return ec;
  stream.expires_after(config.send_timeout);
  auto [ec, n, body] = co_await asio_uring::async_write(stream, std::move(req.body()), use_tuple);
  co_return ec;
}

asio::awaitable<error_code> respond(asio_uring::tcp_stream& stream, request& req,
                                    const server_config& config, asio_uring::heap_buffer& chunk) {
  const std::string_view target = view(req.target());
  if (req.method() == http::verb::post && target.substr(0, target.find('?')) == "/echo")
    co_return co_await serve_echo(stream, req, config);
  if (req.method() == http::verb::get || req.method() == http::verb::head)
    co_return co_await serve_file(stream, req, config, chunk);
  auto res = make_status(http::status::method_not_allowed, req.version(), req.keep_alive());
  res.set(http::field::allow, "GET, HEAD");
  co_return co_await write_response(stream, res, false, config);
}

// The answer to a request that could not be read, if the client deserves one.
std::optional<http::status> status_for(const error_code& ec) {
  if (ec == http::error::header_limit)
    return http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit)
    return http::status::payload_too_large;
  if (ec.category() != http::make_error_code(http::error::bad_target).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message)
    return std::nullopt; // the peer left or reset, or a deadline passed (the socket is closed)
  return http::status::bad_request;
}

// Answers `status` and closes the connection.
asio::awaitable<void> reject(asio_uring::tcp_stream& stream, http::status status,
                             const server_config& config) {
  auto res = make_status(status, 11, false);
  if (!co_await write_response(stream, res, false, config))
    co_await close_gracefully(stream);
}

} // namespace

asio::awaitable<void> run_session(asio_uring::ip::tcp::socket socket, const server_config& config) {
  error_code ignored;
  socket.set_option(asio_uring::ip::tcp::no_delay(true), ignored);
  asio_uring::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;     // unparsed input: carries pipelined requests over
  asio_uring::heap_buffer chunk; // file chunks, reused from response to response
  for (bool first = true;; first = false) {
    if (!first && buffer.size() == 0) { // kept alive: wait for the next request to begin
      stream.expires_after(config.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec)
        co_return;
      buffer.commit(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + config.request_timeout;
    stream.expires_at(deadline);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.header_limit));
    parser.body_limit(config.body_limit);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (!ec && !parser.is_done()) {
      if (parser.get().version() == 11 &&
          beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        stream.expires_after(config.send_timeout);
        auto [cec, cn, cb] = co_await asio_uring::async_write(
            stream, std::string("HTTP/1.1 100 Continue\r\n\r\n"), use_tuple);
        if (cec)
          co_return;
        stream.expires_at(deadline);
      }
      std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
    }
    if (ec) {
      if (auto status = status_for(ec))
        co_await reject(stream, *status, config);
      co_return;
    }
    request req = parser.release();
    if (error_code wec = co_await respond(stream, req, config, chunk))
      co_return;
    if (!req.keep_alive()) {
      co_await close_gracefully(stream);
      co_return;
    }
  }
}

} // namespace http_server
