// asio_uring::io_context: an Asio execution context driven by one io_uring ring.
#pragma once

#include <asio_uring/detail/scheduler.hpp>
#include <asio_uring/io_context_options.hpp>

#include <boost/asio/execution.hpp>
#include <boost/asio/execution_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace asio_uring {

/// An execution context whose I/O objects submit to one io_uring ring.
///
/// Mirrors `boost::asio::io_context`: run it from one thread at a time (running it from two at
/// once throws); `post`, `stop` and initiating functions may be called from any thread. The
/// ring is created at construction (so an unusable io_uring throws here) and is owned by the
/// first thread that runs it (IORING_SETUP_SINGLE_ISSUER).
class io_context : public boost::asio::execution_context {
public:
  template <class Allocator, std::uintptr_t Bits>
  class basic_executor_type;
  using executor_type = basic_executor_type<std::allocator<void>, 0>;
  using options = io_context_options;
  using count_type = std::size_t;

  /// Throws boost::system::system_error naming the cause and the remedy if io_uring is unusable.
  io_context();
  /// The hint is accepted for porting; one thread runs the context.
  explicit io_context(int concurrency_hint);
  explicit io_context(const options& opts);
  ~io_context();

  io_context(const io_context&) = delete;
  io_context& operator=(const io_context&) = delete;

  executor_type get_executor() noexcept;

  count_type run() { return impl_.run(); }
  count_type run_one() { return impl_.run_one(); }
  count_type poll() { return impl_.poll(); }
  count_type poll_one() { return impl_.poll_one(); }

  template <class Rep, class Period>
  count_type run_for(const std::chrono::duration<Rep, Period>& rel_time) {
    return run_until(std::chrono::steady_clock::now() + rel_time);
  }
  template <class Clock, class Duration>
  count_type run_until(const std::chrono::time_point<Clock, Duration>& abs_time) {
    count_type n = 0;
    while (run_one_until(abs_time))
      if (n != static_cast<count_type>(-1))
        ++n;
    return n;
  }
  template <class Rep, class Period>
  count_type run_one_for(const std::chrono::duration<Rep, Period>& rel_time) {
    return run_one_until(std::chrono::steady_clock::now() + rel_time);
  }
  template <class Clock, class Duration>
  count_type run_one_until(const std::chrono::time_point<Clock, Duration>& abs_time) {
    auto now = Clock::now();
    while (now < abs_time) {
      auto rel = abs_time - now;
      if (rel > std::chrono::seconds(1))
        rel = std::chrono::seconds(1);
      auto usec = std::chrono::duration_cast<std::chrono::microseconds>(rel).count();
      if (std::size_t n = impl_.wait_one(static_cast<long>(usec < 1 ? 1 : usec)); n || stopped())
        return n;
      now = Clock::now();
    }
    return 0;
  }

  void stop() noexcept { impl_.stop(); }
  bool stopped() const noexcept { return impl_.stopped(); }
  void restart() noexcept { impl_.restart(); }

  /// What the destructor does, now: cancels every operation, drains their CQEs, then destroys
  /// every handler without invoking it (a coroutine frame holding a borrowed buffer goes only
  /// after its op's final CQE). The context cannot run again; abandoned_operations() then
  /// says how many operations were leaked on purpose.
  void shutdown() { boost::asio::execution_context::shutdown(); }

  /// Operations whose final CQE never came within options::drain_timeout at shutdown: their
  /// memory was leaked on purpose, never freed while the kernel might still write it.
  std::size_t abandoned_operations() const noexcept { return impl_.abandoned_operations(); }
  /// The IORING_SETUP_* flags the kernel accepted.
  unsigned ring_setup_flags() const noexcept { return impl_.ring_setup_flags(); }

  detail::scheduler& impl() noexcept { return impl_; }

private:
  detail::scheduler& impl_;
};

/// The executor of an io_context (Asio's standard executor concept and the Networking TS one).
template <class Allocator, std::uintptr_t Bits>
class io_context::basic_executor_type {
  static constexpr std::uintptr_t blocking_never = 1;
  static constexpr std::uintptr_t relationship_continuation = 2;
  static constexpr std::uintptr_t outstanding_work_tracked = 4;
  template <class, std::uintptr_t>
  friend class basic_executor_type;
  friend class io_context;

  basic_executor_type(io_context& ctx, std::uintptr_t bits,
                      const Allocator& a = Allocator()) noexcept
      : ctx_(&ctx), bits_(bits), allocator_(a) {
    if (Bits & outstanding_work_tracked)
      ctx_->impl_.work_started();
  }

public:
  basic_executor_type(const basic_executor_type& o) noexcept
      : ctx_(o.ctx_), bits_(o.bits_), allocator_(o.allocator_) {
    if (Bits & outstanding_work_tracked)
      if (ctx_)
        ctx_->impl_.work_started();
  }
  basic_executor_type(basic_executor_type&& o) noexcept
      : ctx_(o.ctx_), bits_(o.bits_), allocator_(std::move(o.allocator_)) {
    if (Bits & outstanding_work_tracked)
      o.ctx_ = nullptr;
  }
  ~basic_executor_type() noexcept {
    if (Bits & outstanding_work_tracked)
      if (ctx_)
        ctx_->impl_.work_finished();
  }
  basic_executor_type& operator=(const basic_executor_type& o) noexcept {
    if (this != &o) {
      basic_executor_type tmp(o);
      swap(tmp);
    }
    return *this;
  }
  basic_executor_type& operator=(basic_executor_type&& o) noexcept {
    if (this != &o) {
      basic_executor_type tmp(std::move(o));
      swap(tmp);
    }
    return *this;
  }

  // Properties (require / query), after asio::io_context::basic_executor_type.
  constexpr basic_executor_type require(boost::asio::execution::blocking_t::possibly_t) const {
    return basic_executor_type(*ctx_, bits_ & ~blocking_never, allocator_);
  }
  constexpr basic_executor_type require(boost::asio::execution::blocking_t::never_t) const {
    return basic_executor_type(*ctx_, bits_ | blocking_never, allocator_);
  }
  constexpr basic_executor_type require(boost::asio::execution::relationship_t::fork_t) const {
    return basic_executor_type(*ctx_, bits_ & ~relationship_continuation, allocator_);
  }
  constexpr basic_executor_type
  require(boost::asio::execution::relationship_t::continuation_t) const {
    return basic_executor_type(*ctx_, bits_ | relationship_continuation, allocator_);
  }
  constexpr basic_executor_type<Allocator, Bits | outstanding_work_tracked>
  require(boost::asio::execution::outstanding_work_t::tracked_t) const {
    return basic_executor_type<Allocator, Bits | outstanding_work_tracked>(*ctx_, bits_,
                                                                           allocator_);
  }
  constexpr basic_executor_type<Allocator, Bits & ~outstanding_work_tracked>
  require(boost::asio::execution::outstanding_work_t::untracked_t) const {
    return basic_executor_type<Allocator, Bits & ~outstanding_work_tracked>(*ctx_, bits_,
                                                                            allocator_);
  }
  template <class OtherAllocator>
  constexpr basic_executor_type<OtherAllocator, Bits>
  require(boost::asio::execution::allocator_t<OtherAllocator> a) const {
    return basic_executor_type<OtherAllocator, Bits>(*ctx_, bits_, a.value());
  }
  constexpr basic_executor_type<std::allocator<void>, Bits>
  require(boost::asio::execution::allocator_t<void>) const {
    return basic_executor_type<std::allocator<void>, Bits>(*ctx_, bits_);
  }

  static constexpr boost::asio::execution::mapping_t
  query(boost::asio::execution::mapping_t) noexcept {
    return boost::asio::execution::mapping.thread;
  }
  io_context& query(boost::asio::execution::context_t) const noexcept { return *ctx_; }
  constexpr boost::asio::execution::blocking_t
  query(boost::asio::execution::blocking_t) const noexcept {
    return (bits_ & blocking_never)
               ? boost::asio::execution::blocking_t(boost::asio::execution::blocking.never)
               : boost::asio::execution::blocking_t(boost::asio::execution::blocking.possibly);
  }
  constexpr boost::asio::execution::relationship_t
  query(boost::asio::execution::relationship_t) const noexcept {
    return (bits_ & relationship_continuation)
               ? boost::asio::execution::relationship_t(
                     boost::asio::execution::relationship.continuation)
               : boost::asio::execution::relationship_t(boost::asio::execution::relationship.fork);
  }
  static constexpr boost::asio::execution::outstanding_work_t
  query(boost::asio::execution::outstanding_work_t) noexcept {
    return (Bits & outstanding_work_tracked)
               ? boost::asio::execution::outstanding_work_t(
                     boost::asio::execution::outstanding_work.tracked)
               : boost::asio::execution::outstanding_work_t(
                     boost::asio::execution::outstanding_work.untracked);
  }
  template <class OtherAllocator>
  constexpr Allocator query(boost::asio::execution::allocator_t<OtherAllocator>) const noexcept {
    return allocator_;
  }
  constexpr Allocator query(boost::asio::execution::allocator_t<void>) const noexcept {
    return allocator_;
  }

  /// Runs `f` inline when called on the thread running the context (unless blocking.never),
  /// else queues it.
  template <class Function>
  void execute(Function&& f) const;

  // Networking TS executor requirements.
  io_context& context() const noexcept { return *ctx_; }
  void on_work_started() const noexcept { ctx_->impl_.work_started(); }
  void on_work_finished() const noexcept { ctx_->impl_.work_finished(); }
  template <class Function, class OtherAllocator>
  void dispatch(Function&& f, const OtherAllocator& a) const;
  template <class Function, class OtherAllocator>
  void post(Function&& f, const OtherAllocator& a) const;
  template <class Function, class OtherAllocator>
  void defer(Function&& f, const OtherAllocator& a) const;

  bool running_in_this_thread() const noexcept { return ctx_->impl_.running_in_this_thread(); }

  friend bool operator==(const basic_executor_type& a, const basic_executor_type& b) noexcept {
    return a.ctx_ == b.ctx_ && a.bits_ == b.bits_ && a.allocator_ == b.allocator_;
  }
  friend bool operator!=(const basic_executor_type& a, const basic_executor_type& b) noexcept {
    return !(a == b);
  }

private:
  void swap(basic_executor_type& o) noexcept {
    std::swap(ctx_, o.ctx_);
    std::swap(bits_, o.bits_);
    std::swap(allocator_, o.allocator_);
  }
  template <class Function, class OtherAllocator>
  void post_function(Function&& f, const OtherAllocator& a) const;

  io_context* ctx_;
  std::uintptr_t bits_;
  Allocator allocator_;
};

inline io_context::executor_type io_context::get_executor() noexcept {
  return executor_type(*this, 0);
}

} // namespace asio_uring

#include <asio_uring/impl/io_context.hpp>
