// asio_uring::stream_file: sequential file I/O at the file position, owned and borrowed.
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

/// A file read and written at its current position (io_uring offset -1, which advances it).
/// As with Asio's stream objects, keep one read and one write in flight at a time.
template <class Executor = boost::asio::any_io_executor>
class basic_stream_file : public detail::basic_file<Executor> {
  using base = detail::basic_file<Executor>;

public:
  using typename base::executor_type;
  using typename base::native_handle_type;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_stream_file<OtherExecutor>;
  };

  using base::base; // (ctx | executor) [, path, flags | native handle], as Asio's
  basic_stream_file(basic_stream_file&&) noexcept = default;
  basic_stream_file& operator=(basic_stream_file&&) noexcept = default;

  /// Moves the file position; returns the new one.
  std::uint64_t seek(std::int64_t offset, file_base::seek_basis whence) {
    boost::system::error_code ec;
    auto r = seek(offset, whence, ec);
    base::throw_if(ec, "seek");
    return r;
  }
  std::uint64_t seek(std::int64_t offset, file_base::seek_basis whence,
                     boost::system::error_code& ec) {
    off_t r = ::lseek(this->fd_, static_cast<off_t>(offset), whence);
    if (r < 0) {
      ec = detail::last_error();
      return 0;
    }
    ec = {};
    return static_cast<std::uint64_t>(r);
  }

  /// Owned read at the file position.
  /// @par Completion Signature `void(error_code, std::size_t, Buffer)`; EOF is asio::error::eof.
  /// @par Per-Operation Cancellation terminal, partial, total.
  /// @par Buffer Ownership The buffer lives in the op block until the final CQE.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_read_some(Buffer&& buffer, CompletionToken&& token = {}) {
    return initiate_owned<detail::rw_kind::read>(std::move(buffer), token);
  }
  /// Owned write at the file position: `void(error_code, std::size_t, Buffer)`.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_write_some(Buffer&& buffer, CompletionToken&& token = {}) {
    return initiate_owned<detail::rw_kind::write>(std::move(buffer), token);
  }
  /// Borrowed read, exactly Asio's: `void(error_code, std::size_t)`.
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token = {}) {
    return initiate_borrowed<detail::rw_kind::read>(buffers, token);
  }
  /// Borrowed write, exactly Asio's: `void(error_code, std::size_t)`.
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token = {}) {
    return initiate_borrowed<detail::rw_kind::write>(buffers, token);
  }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return detail::sync_rw<true>(this->fd_, -1, buffers, true, ec);
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some(buffers, ec);
    base::throw_if(ec, "read_some");
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    return detail::sync_rw<false>(this->fd_, -1, buffers, false, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = write_some(buffers, ec);
    base::throw_if(ec, "write_some");
    return n;
  }

private:
  detail::rw_target position() const noexcept {
    return this->target(static_cast<std::uint64_t>(-1));
  }
  template <detail::rw_kind Kind, class B, class Token>
  auto initiate_owned(B&& buffer, Token& token) {
    using buffer_type = std::remove_cvref_t<B>;
    return boost::asio::async_initiate<Token,
                                       void(boost::system::error_code, std::size_t, buffer_type)>(
        [this](auto&& h, buffer_type&& b) {
          this->template start_op<detail::owned_rw_payload<buffer_type, Kind>>(
              std::forward<decltype(h)>(h), std::move(b), position());
        },
        token, std::move(buffer));
  }
  template <detail::rw_kind Kind, class Buffers, class Token>
  auto initiate_borrowed(const Buffers& buffers, Token& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto&& h, const Buffers& bs) {
          this->template start_op<detail::borrowed_rw_payload<Buffers, Kind>>(
              std::forward<decltype(h)>(h), bs, position());
        },
        token, buffers);
  }
};

using stream_file = basic_stream_file<>;

} // namespace asio_uring
