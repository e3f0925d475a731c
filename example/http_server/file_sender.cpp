// http_server: the owned-buffer file send loop (see file_sender.hpp).
#include "file_sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace http_server {

boost::asio::awaitable<boost::system::error_code>
send_file_range(asio_uring::tcp_stream& stream, asio_uring::random_access_file& file,
                std::uint64_t offset, std::uint64_t length,
                std::chrono::steady_clock::duration send_timeout, asio_uring::heap_buffer& chunk) {
  // as_tuple: the buffer comes back even when an operation fails.
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  while (length > 0) {
    // Empty before first use, or after a terminal cancellation kept it in the kernel's op.
    if (chunk.size() < file_chunk_size)
      chunk = asio_uring::heap_buffer(file_chunk_size);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk.size()));
    auto [rec, n, read_back] = co_await file.async_read_some_at(
        offset, asio_uring::slice(std::move(chunk), 0, want), use_tuple);
    chunk = std::move(read_back).release();
    if (rec)
      co_return rec; // eof included: the file shrank under us
    stream.expires_after(send_timeout);
    auto [wec, written, write_back] = co_await asio_uring::async_write(
        stream, asio_uring::slice(std::move(chunk), 0, n), use_tuple);
    chunk = std::move(write_back).release();
    if (wec)
      co_return wec;
    offset += n;
    length -= n;
  }
  co_return boost::system::error_code();
}

} // namespace http_server
