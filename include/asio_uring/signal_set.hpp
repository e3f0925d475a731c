// asio_uring::signal_set: Asio's signal_set over the ring. A process-wide handler writes each
// signal number to a pipe that the ring reads (as Asio's own implementation does), so a program
// that never blocks signals receives them whichever thread the kernel interrupts.
#pragma once

#include <asio_uring/detail/descriptor_object.hpp>
#include <asio_uring/detail/io_object.hpp>
#include <asio_uring/detail/uring_op.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <tuple>
#include <type_traits>

namespace asio_uring {

namespace detail {
class signal_set_impl; // lib/signal_set.cpp
signal_set_impl* signal_set_create(scheduler& s);
/// Cancels the waits (operation_aborted) and frees the set once nothing refers to it.
void signal_set_destroy(signal_set_impl* impl) noexcept;
boost::system::error_code signal_set_add(signal_set_impl* impl, int signal_number);
boost::system::error_code signal_set_remove(signal_set_impl* impl, int signal_number);
void signal_set_clear(signal_set_impl* impl) noexcept;
void signal_set_cancel(signal_set_impl* impl) noexcept;
op_parking* signal_set_parking(signal_set_impl* impl) noexcept;

class signal_wait_payload {
public:
  static constexpr bool owned = false;
  explicit signal_wait_payload(op_parking* site) noexcept : site_(site) {}
  int prepare(op_block& op) {
    op.parking_ = site_;
    return 1;
  }
  std::tuple<boost::system::error_code, int> take(int res, unsigned) {
    if (res < 0)
      return {boost::system::error_code(-res, boost::system::system_category()), 0};
    return {boost::system::error_code(), res};
  }
  std::tuple<boost::system::error_code, int> take_aborted() {
    return {boost::asio::error::operation_aborted, 0};
  }

private:
  op_parking* site_;
};
} // namespace detail

/// Waits for signals (Asio's basic_signal_set). A signal that arrives while no wait is pending
/// is kept and completes the next async_wait. Signals are process-wide: every set registered
/// for a signal sees it. Destroy the set before its io_context.
template <class Executor = boost::asio::any_io_executor>
class basic_signal_set {
public:
  using executor_type = Executor;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_signal_set<OtherExecutor>;
  };

  explicit basic_signal_set(const executor_type& ex)
      : executor_(ex), impl_(detail::signal_set_create(detail::scheduler_of(ex))) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_signal_set(ExecutionContext& ctx)
      : basic_signal_set(detail::executor_of<executor_type>(ctx)) {}
  template <class ExecutionContext, class... Signals>
  requires(std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&> &&
           sizeof...(Signals) >= 1 && (std::is_convertible_v<Signals, int> && ...))
      basic_signal_set(ExecutionContext& ctx, Signals... signal_numbers)
      : basic_signal_set(detail::executor_of<executor_type>(ctx)) {
    (add(signal_numbers), ...);
  }
  template <class... Signals>
  requires(sizeof...(Signals) >= 1 && (std::is_convertible_v<Signals, int> && ...))
      basic_signal_set(const executor_type& ex, Signals... signal_numbers)
      : basic_signal_set(ex) {
    (add(signal_numbers), ...);
  }
  basic_signal_set(const basic_signal_set&) = delete;
  basic_signal_set& operator=(const basic_signal_set&) = delete;
  /// Pending waits complete with operation_aborted; the signals are unregistered.
  ~basic_signal_set() { detail::signal_set_destroy(impl_); }

  executor_type get_executor() const noexcept { return executor_; }

  void add(int signal_number) {
    throw_if(detail::signal_set_add(impl_, signal_number), "signal_set add");
  }
  void add(int signal_number, boost::system::error_code& ec) {
    ec = detail::signal_set_add(impl_, signal_number);
  }
  void remove(int signal_number) {
    throw_if(detail::signal_set_remove(impl_, signal_number), "signal_set remove");
  }
  void remove(int signal_number, boost::system::error_code& ec) {
    ec = detail::signal_set_remove(impl_, signal_number);
  }
  void clear() { detail::signal_set_clear(impl_); }
  void clear(boost::system::error_code& ec) {
    detail::signal_set_clear(impl_);
    ec = {};
  }
  /// Pending waits complete with operation_aborted.
  void cancel() { detail::signal_set_cancel(impl_); }
  void cancel(boost::system::error_code& ec) {
    detail::signal_set_cancel(impl_);
    ec = {};
  }

  /// @par Completion Signature `void(error_code, int signal_number)`.
  /// @par Per-Operation Cancellation terminal, partial, total.
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_wait(CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, int)>(
        [this](auto&& handler) {
          detail::uring_op<detail::signal_wait_payload, std::decay_t<decltype(handler)>,
                           executor_type>::start(detail::scheduler_of(executor_),
                                                 std::forward<decltype(handler)>(handler),
                                                 executor_, detail::signal_set_parking(impl_));
        },
        token);
  }

private:
  static void throw_if(const boost::system::error_code& ec, const char* what) {
    if (ec)
      throw boost::system::system_error(ec, what);
  }
  executor_type executor_;
  detail::signal_set_impl* impl_;
};

using signal_set = basic_signal_set<>;

} // namespace asio_uring
