// asio_uring::async_read / async_read_at: fill the whole owned buffer, then hand it back.
#pragma once

#include <asio_uring/detail/transfer_all_op.hpp>

#include <boost/asio/async_result.hpp>

namespace asio_uring {

/// Reads until `[0, size())` of the buffer is full (or EOF / error): the owned twin of
/// boost::asio::async_read. Constrained to owned buffers, so an unqualified
/// `async_read(s, asio::buffer(...), token)` still picks Asio's.
/// @par Completion Signature `void(error_code, std::size_t, Buffer)`: at EOF, asio::error::eof
/// with the partial count, as Asio's.
template <class AsyncReadStream, class Buffer,
          class CompletionToken =
              boost::asio::default_completion_token_t<typename AsyncReadStream::executor_type>>
requires owned_buffer_rvalue<Buffer&&>
auto async_read(AsyncReadStream& s, Buffer&& buffer, CompletionToken&& token = {}) {
  return detail::async_transfer_all<detail::transfer::read, false>(s, 0, std::move(buffer), token);
}

/// Reads `[0, size())` of the buffer from `offset` of a random-access device.
/// @par Completion Signature `void(error_code, std::size_t, Buffer)`.
template <class AsyncRandomAccessReadDevice, class Buffer,
          class CompletionToken = boost::asio::default_completion_token_t<
              typename AsyncRandomAccessReadDevice::executor_type>>
requires owned_buffer_rvalue<Buffer&&>
auto async_read_at(AsyncRandomAccessReadDevice& d, std::uint64_t offset, Buffer&& buffer,
                   CompletionToken&& token = {}) {
  return detail::async_transfer_all<detail::transfer::read, true>(d, offset, std::move(buffer),
                                                                  token);
}

} // namespace asio_uring
