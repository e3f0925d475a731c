// asio_uring::posix::stream_descriptor: pipes, ttys and eventfds over io_uring, with owned and
// borrowed reads and writes.
#pragma once

#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/detail/io_object.hpp>
#include <asio_uring/detail/rw_payload.hpp>
#include <asio_uring/detail/uring_op.hpp>

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
class basic_stream_descriptor {
public:
  using executor_type = Executor;
  using native_handle_type = int;
  using lowest_layer_type = basic_stream_descriptor;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_stream_descriptor<OtherExecutor>;
  };

  explicit basic_stream_descriptor(const executor_type& ex)
      : executor_(ex), sched_(&detail::scheduler_of(ex)) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_stream_descriptor(ExecutionContext& ctx)
      : basic_stream_descriptor(executor_type(ctx.get_executor())) {}
  basic_stream_descriptor(const executor_type& ex, native_handle_type fd)
      : basic_stream_descriptor(ex) {
    assign(fd);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_stream_descriptor(ExecutionContext& ctx, native_handle_type fd)
      : basic_stream_descriptor(executor_type(ctx.get_executor()), fd) {}

  basic_stream_descriptor(basic_stream_descriptor&& o) noexcept
      : executor_(o.executor_), sched_(o.sched_), fd_(std::exchange(o.fd_, -1)) {}
  basic_stream_descriptor& operator=(basic_stream_descriptor&& o) noexcept {
    if (this != &o) {
      close();
      executor_ = o.executor_;
      sched_ = o.sched_;
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  /// Cancels outstanding operations (their handlers get operation_aborted) and closes.
  ~basic_stream_descriptor() { close(); }

  executor_type get_executor() const noexcept { return executor_; }
  lowest_layer_type& lowest_layer() noexcept { return *this; }
  bool is_open() const noexcept { return fd_ >= 0; }
  native_handle_type native_handle() const noexcept { return fd_; }

  void assign(native_handle_type fd) {
    boost::system::error_code ec;
    assign(fd, ec);
    if (ec)
      throw boost::system::system_error(ec, "assign");
  }
  void assign(native_handle_type fd, boost::system::error_code& ec) {
    if (is_open()) {
      ec = boost::asio::error::already_open;
      return;
    }
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ((fl & O_NONBLOCK) && ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
      ec = {errno, boost::system::system_category()};
      return;
    }
    fd_ = fd;
    ec = {};
  }

  /// Cancels outstanding operations with one IORING_OP_ASYNC_CANCEL (FD|ALL), then closes.
  void close() noexcept {
    if (fd_ >= 0)
      sched_->cancel_fd(std::exchange(fd_, -1), true);
  }
  void close(boost::system::error_code& ec) noexcept {
    close();
    ec = {};
  }
  /// Cancels outstanding operations; their handlers get operation_aborted.
  void cancel() noexcept { sched_->cancel_fd(fd_, false); }
  void cancel(boost::system::error_code& ec) noexcept {
    if (fd_ < 0) {
      ec = boost::asio::error::bad_descriptor;
      return;
    }
    cancel();
    ec = {};
  }
  /// Gives up ownership; outstanding operations are cancelled first.
  native_handle_type release() noexcept {
    cancel();
    return std::exchange(fd_, -1);
  }

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
      using payload = detail::owned_rw_payload<B, Kind>;
      detail::uring_op<payload, std::decay_t<Handler>, executor_type>::start(
          *self->sched_, std::forward<Handler>(h), self->executor_, std::move(buffer),
          detail::rw_target{self->fd_, static_cast<std::uint64_t>(-1), true});
    }
  };
  template <class Buffers, detail::rw_kind Kind>
  struct initiate_borrowed {
    basic_stream_descriptor* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler>
    void operator()(Handler&& h, const Buffers& buffers) const {
      using payload = detail::borrowed_rw_payload<Buffers, Kind>;
      detail::uring_op<payload, std::decay_t<Handler>, executor_type>::start(
          *self->sched_, std::forward<Handler>(h), self->executor_, buffers,
          detail::rw_target{self->fd_, static_cast<std::uint64_t>(-1), true});
    }
  };

  template <bool Read, class Buffers>
  std::size_t sync_io(const Buffers& buffers, boost::system::error_code& ec) {
    ::iovec iov[16];
    int n = 0;
    std::size_t total = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && n < 16; ++it, ++n) {
      iov[n] = {const_cast<void*>(static_cast<const void*>(it->data())), it->size()};
      total += it->size();
    }
    if (fd_ < 0) {
      ec = boost::asio::error::bad_descriptor;
      return 0;
    }
    if (total == 0) {
      ec = {};
      return 0;
    }
    ssize_t r = Read ? ::readv(fd_, iov, n) : ::writev(fd_, iov, n);
    if (r < 0) {
      ec = {errno, boost::system::system_category()};
      return 0;
    }
    ec = (Read && r == 0) ? boost::system::error_code(boost::asio::error::eof)
                          : boost::system::error_code();
    return static_cast<std::size_t>(r);
  }

  executor_type executor_;
  detail::scheduler* sched_;
  int fd_ = -1;
};

using stream_descriptor = basic_stream_descriptor<>;

} // namespace asio_uring::posix
