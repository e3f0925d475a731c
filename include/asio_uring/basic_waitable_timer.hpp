// asio_uring::basic_waitable_timer: Asio's timer, each wait an IORING_OP_TIMEOUT.
#pragma once

#include <asio_uring/detail/io_object.hpp>
#include <asio_uring/detail/timer_payload.hpp>
#include <asio_uring/detail/uring_op.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/wait_traits.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <type_traits>

namespace asio_uring {

/// A waitable timer over io_uring, with the interface of boost::asio::basic_waitable_timer.
/// Pending waits of a context share one heap and one kernel timeout (IORING_OP_TIMEOUT on
/// CLOCK_MONOTONIC) armed for the earliest; other clocks are converted when the wait starts.
template <class Clock, class WaitTraits = boost::asio::wait_traits<Clock>,
          class Executor = boost::asio::any_io_executor>
class basic_waitable_timer {
public:
  using executor_type = Executor;
  using clock_type = Clock;
  using duration = typename Clock::duration;
  using time_point = typename Clock::time_point;
  using traits_type = WaitTraits;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_waitable_timer<Clock, WaitTraits, OtherExecutor>;
  };

  explicit basic_waitable_timer(const executor_type& ex)
      : executor_(ex), sched_(&detail::scheduler_of(ex)),
        waits_(std::make_unique<detail::timer_wait_list>()) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_waitable_timer(ExecutionContext& ctx)
      : basic_waitable_timer(executor_type(ctx.get_executor())) {}
  basic_waitable_timer(const executor_type& ex, const time_point& t) : basic_waitable_timer(ex) {
    expiry_ = t;
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_waitable_timer(ExecutionContext& ctx, const time_point& t)
      : basic_waitable_timer(executor_type(ctx.get_executor()), t) {}
  basic_waitable_timer(const executor_type& ex, const duration& d) : basic_waitable_timer(ex) {
    expires_after(d);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_waitable_timer(ExecutionContext& ctx, const duration& d)
      : basic_waitable_timer(executor_type(ctx.get_executor()), d) {}

  basic_waitable_timer(basic_waitable_timer&&) noexcept = default;
  basic_waitable_timer& operator=(basic_waitable_timer&& o) noexcept {
    if (this != &o) {
      detach_all();
      executor_ = std::move(o.executor_);
      sched_ = o.sched_;
      expiry_ = o.expiry_;
      waits_ = std::move(o.waits_);
    }
    return *this;
  }
  /// Pending waits are cancelled (operation_aborted).
  ~basic_waitable_timer() { detach_all(); }

  executor_type get_executor() const noexcept { return executor_; }

  /// Cancels every pending wait; returns how many were pending.
  std::size_t cancel() {
    std::size_t n = 0;
    if (waits_)
      for (auto* h = waits_->head; h; h = h->next)
        if (pending(h)) {
          sched_->cancel(h->op, boost::asio::cancellation_type::all);
          ++n;
        }
    return n;
  }
  /// Cancels the oldest pending wait.
  std::size_t cancel_one() {
    detail::timer_wait_hook* oldest = nullptr;
    if (waits_)
      for (auto* h = waits_->head; h; h = h->next)
        if (pending(h))
          oldest = h; // the list is newest first
    if (!oldest)
      return 0;
    sched_->cancel(oldest->op, boost::asio::cancellation_type::all);
    return 1;
  }

  time_point expiry() const { return expiry_; }
  std::size_t expires_at(const time_point& t) {
    std::size_t n = cancel();
    expiry_ = t;
    return n;
  }
  std::size_t expires_after(const duration& d) {
    time_point now = Clock::now();
    // Saturate rather than overflow, as Asio's time traits do.
    if (d > duration::zero() && now > time_point::max() - d)
      return expires_at(time_point::max());
    return expires_at(now + d);
  }

  /// Blocks the calling thread until the expiry.
  void wait() {
    for (auto now = Clock::now(); now < expiry_; now = Clock::now())
      std::this_thread::sleep_for(std::min<duration>(expiry_ - now, std::chrono::seconds(1)));
  }
  void wait(boost::system::error_code& ec) {
    wait();
    ec = {};
  }

  /// @par Completion Signature `void(error_code)`: success at expiry, operation_aborted when
  /// cancelled first.
  /// @par Per-Operation Cancellation terminal, partial, total.
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_wait(CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        initiate_wait{this}, token);
  }

private:
  struct initiate_wait {
    basic_waitable_timer* self;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler>
    void operator()(Handler&& h) const {
      detail::uring_op<detail::timer_payload, std::decay_t<Handler>, executor_type>::start(
          *self->sched_, std::forward<Handler>(h), self->executor_, self->deadline(),
          self->waits_.get());
    }
  };

  // The expiry as a steady_clock deadline in nanoseconds (other clocks: measured from now).
  std::int64_t deadline() const {
    using namespace std::chrono;
    if constexpr (std::is_same_v<Clock, steady_clock>) {
      return duration_cast<nanoseconds>(expiry_.time_since_epoch()).count();
    } else {
      // Not WaitTraits::to_wait_duration: Asio 1.81's overflows (now + duration::max()).
      auto now = steady_clock::now().time_since_epoch();
      auto clock_now = Clock::now();
      if (expiry_ <= clock_now)
        return now.count();
      constexpr auto century = duration_cast<typename Clock::duration>(hours(24 * 365 * 100));
      auto left = expiry_ - clock_now;
      if (left > century)
        left = century;
      return (now + duration_cast<nanoseconds>(left)).count();
    }
  }

  // A wait that has fired already only waits for its handler to run: Asio does not count it.
  static bool pending(const detail::timer_wait_hook* h) noexcept {
    return !(h->op->state_ & detail::op_block::immediate);
  }

  void detach_all() noexcept {
    if (!waits_)
      return;
    cancel();
    // The ops outlive the list: they unlink from nothing from now on.
    while (auto* h = waits_->head)
      h->unlink();
  }

  executor_type executor_;
  detail::scheduler* sched_;
  time_point expiry_{};
  std::unique_ptr<detail::timer_wait_list> waits_;
};

/// A timer on std::chrono::steady_clock (CLOCK_MONOTONIC).
using steady_timer = basic_waitable_timer<std::chrono::steady_clock>;
/// A timer on std::chrono::system_clock (CLOCK_REALTIME).
using system_timer = basic_waitable_timer<std::chrono::system_clock>;

} // namespace asio_uring
