// asio_uring::async_write / async_write_at: send the whole owned buffer, then hand it back.
#pragma once

#include <asio_uring/detail/transfer_all_op.hpp>

#include <boost/asio/async_result.hpp>

namespace asio_uring {

/// Writes all of `[0, size())`: the owned twin of boost::asio::async_write. Constrained to owned
/// buffers, so an unqualified `async_write(s, asio::buffer(d, n), token)` still picks Asio's.
/// @par Completion Signature `void(error_code, std::size_t, Buffer)`.
template <class AsyncWriteStream, class Buffer,
          class CompletionToken =
              boost::asio::default_completion_token_t<typename AsyncWriteStream::executor_type>>
requires owned_buffer_rvalue<Buffer&&>
auto async_write(AsyncWriteStream& s, Buffer&& buffer, CompletionToken&& token = {}) {
  return detail::async_transfer_all<detail::transfer::write, false>(s, 0, std::move(buffer), token);
}

/// Writes all of `[0, size())` at `offset` of a random-access device.
/// @par Completion Signature `void(error_code, std::size_t, Buffer)`.
template <class AsyncRandomAccessWriteDevice, class Buffer,
          class CompletionToken = boost::asio::default_completion_token_t<
              typename AsyncRandomAccessWriteDevice::executor_type>>
requires owned_buffer_rvalue<Buffer&&>
auto async_write_at(AsyncRandomAccessWriteDevice& d, std::uint64_t offset, Buffer&& buffer,
                    CompletionToken&& token = {}) {
  return detail::async_transfer_all<detail::transfer::write, true>(d, offset, std::move(buffer),
                                                                   token);
}

} // namespace asio_uring
