// What every fd-owning I/O object shares: executor, scheduler, the fd, and closing it safely.
#pragma once

#include <asio_uring/detail/io_object.hpp>
#include <asio_uring/detail/rw_payload.hpp>
#include <asio_uring/detail/socket_state.hpp>
#include <asio_uring/detail/uring_op.hpp>

#include <boost/asio/error.hpp>

#include <linux/io_uring.h>
#include <boost/asio/execution_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <cerrno>
#include <fcntl.h>
#include <type_traits>
#include <utility>

namespace asio_uring::detail {

template <class Executor>
class descriptor_object {
public:
  using executor_type = Executor;
  using native_handle_type = int;

  executor_type get_executor() const noexcept { return executor_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  native_handle_type native_handle() const noexcept { return fd_; }

  /// Takes ownership of `fd`. It is used in blocking mode: O_NONBLOCK is cleared, since io_uring
  /// waits for readiness itself and on an O_NONBLOCK file would fail reads with EAGAIN.
  void assign(native_handle_type fd) {
    boost::system::error_code ec;
    assign(fd, ec);
    throw_if(ec, "assign");
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

  /// Cancels outstanding operations with one IORING_OP_ASYNC_CANCEL (FD|ALL), then closes:
  /// their handlers get operation_aborted (owned operations also get their buffers back).
  void close() noexcept {
    if (fd_ >= 0)
      sched_->cancel_fd(std::exchange(fd_, -1), true, std::exchange(sock_, nullptr));
  }
  void close(boost::system::error_code& ec) noexcept {
    close();
    ec = {};
  }
  /// Cancels outstanding operations; their handlers get operation_aborted.
  void cancel() noexcept {
    if (sock_)
      sock_->add_ref(); // handed to cancel_fd
    sched_->cancel_fd(fd_, false, sock_);
  }
  void cancel(boost::system::error_code& ec) noexcept {
    if (fd_ < 0) {
      ec = boost::asio::error::bad_descriptor;
      return;
    }
    cancel();
    ec = {};
  }
  /// Issue this object's reads and writes from io_uring's worker threads (IOSQE_ASYNC) instead
  /// of inline at submission. A large buffered file read of cached data otherwise runs inside
  /// io_uring_enter and stalls the running thread for its whole copy; offloaded, it costs a
  /// thread hop, and a terminal cancellation of a running one completes at once (EALREADY).
  void set_force_async(bool on) noexcept { sqe_flags_ = on ? IOSQE_ASYNC : 0; }
  bool force_async() const noexcept { return sqe_flags_ != 0; }

  /// Gives up ownership of the fd; outstanding operations are cancelled first.
  native_handle_type release() noexcept {
    int fd = std::exchange(fd_, -1);
    sched_->cancel_fd(fd, false, true, std::exchange(sock_, nullptr));
    return fd;
  }

protected:
  explicit descriptor_object(const executor_type& ex) : executor_(ex), sched_(&scheduler_of(ex)) {}
  descriptor_object(descriptor_object&& o) noexcept
      : executor_(o.executor_), sched_(o.sched_), fd_(std::exchange(o.fd_, -1)),
        sqe_flags_(o.sqe_flags_), sock_(std::exchange(o.sock_, nullptr)) {}
  descriptor_object& operator=(descriptor_object&& o) noexcept {
    if (this != &o) {
      close();
      executor_ = o.executor_;
      sched_ = o.sched_;
      fd_ = std::exchange(o.fd_, -1);
      sqe_flags_ = o.sqe_flags_;
      sock_ = std::exchange(o.sock_, nullptr);
    }
    return *this;
  }
  ~descriptor_object() { close(); }

  /// Starts an op with payload P on this object's scheduler.
  template <class P, class Handler, class... Args>
  void start_op(Handler&& h, Args&&... args) {
    uring_op<P, std::decay_t<Handler>, executor_type>::start(
        *sched_, std::forward<Handler>(h), executor_, std::forward<Args>(args)...);
  }

  static void throw_if(const boost::system::error_code& ec, const char* what) {
    if (ec)
      throw boost::system::system_error(ec, what);
  }

  executor_type executor_;
  scheduler* sched_;
  /// Where this object's reads and writes go.
  rw_target target(std::uint64_t offset) const noexcept { return {fd_, offset, true, sqe_flags_}; }

  /// The stream state its ops share (per-direction order, multishot source); created on first
  /// use by stream objects, dropped on close.
  socket_state& stream_state() {
    if (!sock_)
      sock_ = new socket_state;
    return *sock_;
  }

  int fd_ = -1;
  std::uint8_t sqe_flags_ = 0;
  socket_state* sock_ = nullptr;
};

/// Executor from an execution context, for the `(ctx, ...)` constructors.
template <class Executor, class ExecutionContext>
requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
    Executor executor_of(ExecutionContext& ctx) {
  return Executor(ctx.get_executor());
}

} // namespace asio_uring::detail
