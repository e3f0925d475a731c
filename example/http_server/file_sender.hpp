// http_server: a file's bytes to the client with owned buffers. A chunk is read from the
// asio_uring::random_access_file at an offset into a heap_buffer, which then moves into the
// stream's write and comes back with its completion, ready for the next read.
#pragma once

#include <asio_uring.hpp>
#include <asio_uring/beast.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace http_server {

inline constexpr std::size_t file_chunk_size = 64 * 1024;

/// Sends bytes [offset, offset + length) of `file`. Each chunk's write gets its own deadline,
/// `send_timeout` from its start, so a client that stops reading is dropped. `chunk` is reused
/// across calls (allocated on first use). Its first `prefix` bytes (the response header,
/// already in it) go out with the first chunk of the file: one send, not two, for a small
/// file. Returns the first error; a file that turns out shorter
/// than `length` gives asio::error::eof (the Content-Length already sent cannot be honoured, so
/// the caller closes the connection).
boost::asio::awaitable<boost::system::error_code>
send_file_range(asio_uring::tcp_stream& stream, asio_uring::random_access_file& file,
                std::uint64_t offset, std::uint64_t length,
                std::chrono::steady_clock::duration send_timeout, asio_uring::heap_buffer& chunk,
                std::size_t prefix = 0);

} // namespace http_server
