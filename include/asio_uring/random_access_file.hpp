// asio_uring::random_access_file: positional file I/O over io_uring, owned and borrowed.
#pragma once

#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/detail/basic_file.hpp>
#include <asio_uring/detail/sync_rw.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace asio_uring {

/// A file read and written at explicit offsets. Unlike Asio 1.81's, any number of operations
/// may be in flight on one object at once.
template <class Executor = boost::asio::any_io_executor>
class basic_random_access_file : public detail::basic_file<Executor> {
  using base = detail::basic_file<Executor>;

public:
  using typename base::executor_type;
  using typename base::native_handle_type;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_random_access_file<OtherExecutor>;
  };

  using base::base; // (ctx | executor) [, path, flags | native handle], as Asio's
  basic_random_access_file(basic_random_access_file&&) noexcept = default;
  basic_random_access_file& operator=(basic_random_access_file&&) noexcept = default;

  /// Owned read at `offset` into `[0, size())` of the buffer.
  /// @par Completion Signature `void(error_code, std::size_t, Buffer)`; 0 bytes at or past the
  /// end of the file is asio::error::eof.
  /// @par Per-Operation Cancellation terminal, partial, total (docs/safety.md).
  /// @par Buffer Ownership The buffer lives in the op block until the final CQE.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_read_some_at(std::uint64_t offset, Buffer&& buffer, CompletionToken&& token = {}) {
    return initiate_owned<detail::rw_kind::read>(offset, std::move(buffer), token);
  }
  /// Owned write at `offset` of `[0, size())`: `void(error_code, std::size_t, Buffer)`.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_write_some_at(std::uint64_t offset, Buffer&& buffer, CompletionToken&& token = {}) {
    return initiate_owned<detail::rw_kind::write>(offset, std::move(buffer), token);
  }
  /// Borrowed read, exactly Asio's: `void(error_code, std::size_t)`.
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_read_some_at(std::uint64_t offset, const MutableBufferSequence& buffers,
                     CompletionToken&& token = {}) {
    return initiate_borrowed<detail::rw_kind::read>(offset, buffers, token);
  }
  /// Borrowed write, exactly Asio's: `void(error_code, std::size_t)`.
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_write_some_at(std::uint64_t offset, const ConstBufferSequence& buffers,
                      CompletionToken&& token = {}) {
    return initiate_borrowed<detail::rw_kind::write>(offset, buffers, token);
  }

  template <class MutableBufferSequence>
  std::size_t read_some_at(std::uint64_t offset, const MutableBufferSequence& buffers,
                           boost::system::error_code& ec) {
    return detail::sync_rw<true>(this->fd_, static_cast<long long>(offset), buffers, true, ec);
  }
  template <class MutableBufferSequence>
  std::size_t read_some_at(std::uint64_t offset, const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some_at(offset, buffers, ec);
    base::throw_if(ec, "read_some_at");
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some_at(std::uint64_t offset, const ConstBufferSequence& buffers,
                            boost::system::error_code& ec) {
    return detail::sync_rw<false>(this->fd_, static_cast<long long>(offset), buffers, false, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some_at(std::uint64_t offset, const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = write_some_at(offset, buffers, ec);
    base::throw_if(ec, "write_some_at");
    return n;
  }

private:
  template <detail::rw_kind Kind, class B, class Token>
  auto initiate_owned(std::uint64_t offset, B&& buffer, Token& token) {
    using buffer_type = std::remove_cvref_t<B>;
    return boost::asio::async_initiate<Token,
                                       void(boost::system::error_code, std::size_t, buffer_type)>(
        [this](auto&& h, std::uint64_t off, buffer_type&& b) {
          this->template start_op<detail::owned_rw_payload<buffer_type, Kind>>(
              std::forward<decltype(h)>(h), std::move(b), this->target(off));
        },
        token, offset, std::move(buffer));
  }
  template <detail::rw_kind Kind, class Buffers, class Token>
  auto initiate_borrowed(std::uint64_t offset, const Buffers& buffers, Token& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto&& h, std::uint64_t off, const Buffers& bs) {
          this->template start_op<detail::borrowed_rw_payload<Buffers, Kind>>(
              std::forward<decltype(h)>(h), bs, this->target(off));
        },
        token, offset, buffers);
  }
};

using random_access_file = basic_random_access_file<>;

} // namespace asio_uring
