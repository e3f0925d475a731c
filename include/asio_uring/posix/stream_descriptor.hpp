// asio_uring::posix::stream_descriptor: pipes, ttys and eventfds over io_uring, with owned and
// borrowed reads and writes.
#pragma once

#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/detail/descriptor_object.hpp>
#include <asio_uring/detail/sync_rw.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/system/system_error.hpp>

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <sys/uio.h>
#include <type_traits>
#include <unistd.h>
#include <utility>

namespace asio_uring::posix {

/// A stream-oriented POSIX descriptor (pipe end, tty, eventfd) read and written through the
/// ring. The descriptor is used in blocking mode (io_uring waits for readiness itself), so
/// `assign` clears O_NONBLOCK.
template <class Executor = boost::asio::any_io_executor>
class basic_stream_descriptor : public detail::descriptor_object<Executor> {
  using base = detail::descriptor_object<Executor>;

public:
  using typename base::executor_type;
  using typename base::native_handle_type;
  using lowest_layer_type = basic_stream_descriptor;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_stream_descriptor<OtherExecutor>;
  };

  explicit basic_stream_descriptor(const executor_type& ex) : base(ex) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_stream_descriptor(ExecutionContext& ctx)
      : base(detail::executor_of<executor_type>(ctx)) {}
  basic_stream_descriptor(const executor_type& ex, native_handle_type fd) : base(ex) {
    this->assign(fd);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_stream_descriptor(ExecutionContext& ctx, native_handle_type fd)
      : basic_stream_descriptor(detail::executor_of<executor_type>(ctx), fd) {}
  basic_stream_descriptor(basic_stream_descriptor&&) noexcept = default;
  basic_stream_descriptor& operator=(basic_stream_descriptor&&) noexcept = default;
  /// Cancels outstanding operations (their handlers get operation_aborted) and closes.
  ~basic_stream_descriptor() = default;

  lowest_layer_type& lowest_layer() noexcept { return *this; }

  /// Owned read: the buffer moves into the operation and comes back with the result.
  /// @par Completion Signature `void(error_code, std::size_t, Buffer)`; EOF is asio::error::eof.
  /// @par Per-Operation Cancellation terminal, partial, total (see docs/safety.md).
  /// @par Buffer Ownership The buffer lives in the op block until the final CQE.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_read_some(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, std::size_t, B)>(
        initiate_owned<B, detail::rw_kind::read>{this}, token, std::move(buffer));
  }
  /// Owned write: `void(error_code, std::size_t, Buffer)`.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_write_some(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, std::size_t, B)>(
        initiate_owned<B, detail::rw_kind::write>{this}, token, std::move(buffer));
  }

  /// Borrowed read, exactly Asio's: `void(error_code, std::size_t)`; the caller keeps the
  /// memory alive until the handler runs.
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, std::size_t)>(
        initiate_borrowed<MutableBufferSequence, detail::rw_kind::read>{this}, token, buffers);
  }
  /// Borrowed write, exactly Asio's: `void(error_code, std::size_t)`.
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, std::size_t)>(
        initiate_borrowed<ConstBufferSequence, detail::rw_kind::write>{this}, token, buffers);
  }

  /// Synchronous read (blocking system call).
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return sync_io<true>(buffers, ec);
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some(buffers, ec);
    if (ec)
      throw boost::system::system_error(ec, "read_some");
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    return sync_io<false>(buffers, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = write_some(buffers, ec);
    if (ec)
      throw boost::system::system_error(ec, "write_some");
    return n;
  }

private:
  template <class B, detail::rw_kind Kind>
  struct initiate_owned {
    basic_stream_descriptor* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler>
    void operator()(Handler&& h, B&& buffer) const {
      self->template start_op<detail::owned_rw_payload<B, Kind>>(
          std::forward<Handler>(h), std::move(buffer), self->stream_target());
    }
  };
  template <class Buffers, detail::rw_kind Kind>
  struct initiate_borrowed {
    basic_stream_descriptor* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler>
    void operator()(Handler&& h, const Buffers& buffers) const {
      self->template start_op<detail::borrowed_rw_payload<Buffers, Kind>>(
          std::forward<Handler>(h), buffers, self->stream_target());
    }
  };
  detail::rw_target stream_target() const noexcept {
    return this->target(static_cast<std::uint64_t>(-1));
  }

  template <bool Read, class Buffers>
  std::size_t sync_io(const Buffers& buffers, boost::system::error_code& ec) {
    return detail::sync_rw<Read>(this->fd_, -1, buffers, true, ec);
  }
};

using stream_descriptor = basic_stream_descriptor<>;

} // namespace asio_uring::posix
