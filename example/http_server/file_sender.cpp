// http_server: the owned-buffer file send loop (see file_sender.hpp).
#include "file_sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace http_server {

boost::asio::awaitable<boost::system::error_code>
send_file_range(asio_uring::tcp_stream& stream, asio_uring::random_access_file& file,
                std::uint64_t offset, std::uint64_t length,
                std::chrono::steady_clock::duration send_timeout, asio_uring::heap_buffer& chunk,
                std::size_t prefix) {
  // as_tuple: the buffer comes back even when an operation fails.
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  do {
    // Empty before first use, or after a terminal cancellation kept it in the kernel's op.
    if (chunk.size() < file_chunk_size)
      chunk = asio_uring::heap_buffer(file_chunk_size);
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk.size() - prefix));
    std::size_t n = 0;
    if (want > 0) { // the file's bytes land after the prefix
      auto [rec, got, read_back] = co_await file.async_read_some_at(
          offset, asio_uring::slice(std::move(chunk), prefix, want), use_tuple);
      chunk = std::move(read_back).release();
      if (rec)
        co_return rec; // eof included: the file shrank under us
      n = got;
    }
    if (prefix + n == 0)
      break; // an empty file whose header went out on its own
    stream.expires_after(send_timeout);
    auto [wec, written, write_back] = co_await asio_uring::async_write(
        stream, asio_uring::slice(std::move(chunk), 0, prefix + n), use_tuple);
    chunk = std::move(write_back).release();
    if (wec)
      co_return wec;
    offset += n;
    length -= n;
    prefix = 0;
  } while (length > 0);
  co_return boost::system::error_code();
}

} // namespace http_server
