// What every fd-owning I/O object shares: executor, scheduler, the fd, and closing it safely.
#pragma once

#include <asio_uring/detail/io_object.hpp>
#include <asio_uring/detail/rw_payload.hpp>
#include <asio_uring/detail/uring_op.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

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

  /// Cancels outstanding operations with one IORING_OP_ASYNC_CANCEL (FD|ALL), then closes:
  /// their handlers get operation_aborted (owned operations also get their buffers back).
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
  /// Gives up ownership of the fd; outstanding operations are cancelled first.
  native_handle_type release() noexcept {
    cancel();
    return std::exchange(fd_, -1);
  }

protected:
  explicit descriptor_object(const executor_type& ex) : executor_(ex), sched_(&scheduler_of(ex)) {}
  descriptor_object(descriptor_object&& o) noexcept
      : executor_(o.executor_), sched_(o.sched_), fd_(std::exchange(o.fd_, -1)) {}
  descriptor_object& operator=(descriptor_object&& o) noexcept {
    if (this != &o) {
      close();
      executor_ = o.executor_;
      sched_ = o.sched_;
      fd_ = std::exchange(o.fd_, -1);
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
  int fd_ = -1;
};

/// Executor from an execution context, for the `(ctx, ...)` constructors.
template <class Executor, class ExecutionContext>
requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
    Executor executor_of(ExecutionContext& ctx) {
  return Executor(ctx.get_executor());
}

} // namespace asio_uring::detail
