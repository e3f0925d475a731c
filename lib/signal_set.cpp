// Signals: one process-wide handler writes each signal number to a pipe; every context with a
// signal set keeps a read of that pipe in its ring and hands the numbers to the sets.
#include <asio_uring/signal_set.hpp>

#include <asio_uring/detail/scheduler.hpp>

#include <boost/asio/error.hpp>

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <unistd.h>
#include <vector>

namespace asio_uring::detail {

namespace {

constexpr int max_signal = NSIG;
int signal_write_fd = -1; // read by the handler; set once, never closed

extern "C" void asio_uring_on_signal(int signal_number) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(signal_number);
  (void)!::write(signal_write_fd, &b, 1); // full pipe: the signal is dropped, as coalescing would
  errno = saved;
}

class signal_reader;

struct global_state {
  std::mutex mutex;
  int read_fd = -1;
  int registrations[max_signal] = {};
  struct sigaction previous[max_signal] = {};
  std::vector<signal_set_impl*> sets;
  std::vector<std::pair<scheduler*, signal_reader*>> readers;
};

global_state& global() {
  static global_state* g = new global_state; // never destroyed: handlers may run at exit
  return *g;
}

boost::system::error_code open_pipe(global_state& g) {
  if (g.read_fd >= 0)
    return {};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0)
    return {errno, boost::system::system_category()};
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK); // the handler never blocks; the ring waits on the read end
  g.read_fd = fds[0];
  signal_write_fd = fds[1];
  return {};
}

void dispatch(unsigned char signal_number);

// A read of the signal pipe kept in one context's ring (not counted as work: like Asio's own
// reactor interrupter, it does not keep run() going).
class signal_reader final : public op_block {
public:
  explicit signal_reader(int fd) : op_block(&table, sizeof(signal_reader)), fd_(fd) {}
  void arm(scheduler& s) {
    sqe_ = {};
    sqe_.opcode = IORING_OP_READ;
    sqe_.fd = fd_;
    sqe_.addr = reinterpret_cast<std::uint64_t>(buf_);
    sqe_.len = sizeof buf_;
    sqe_.off = static_cast<std::uint64_t>(-1);
    state_ = handler_live;
    s.submit_now(this);
  }

private:
  static void on_final(op_block* base, scheduler& s, int res, unsigned, bool&) {
    auto* self = static_cast<signal_reader*>(base);
    for (int i = 0; i < res; ++i)
      dispatch(self->buf_[i]);
    s.release_block(self);
  }
  static void on_free(op_block* base, scheduler* s) {
    auto* self = static_cast<signal_reader*>(base);
    self->state_ = 0;
    if (s && !s->shutting_down()) {
      self->arm(*s);
      return;
    }
    {
      global_state& g = global();
      std::lock_guard<std::mutex> lock(g.mutex);
      std::erase_if(g.readers, [&](const auto& r) { return r.second == self; });
    }
    delete self;
  }
  static void nothing(op_block*, scheduler&) {}
  static void nothing_handler(op_block*) {}
  static constexpr vtable table = {&on_final, &nothing, &nothing_handler,
                                   &on_free,  nullptr,  nullptr};
  int fd_;
  unsigned char buf_[64];
};

} // namespace

class signal_set_impl final : public op_parking {
public:
  explicit signal_set_impl(scheduler& s) : sched_(s) {}

  // Under the global mutex.
  bool registered[max_signal] = {};
  int pending[max_signal] = {};
  bool notify_posted = false;
  bool dying = false;

  scheduler& sched() noexcept { return sched_; }

  void park(scheduler& s, op_block* op) override {
    ensure_reader(s);
    int sig = take_pending();
    if (sig)
      s.complete_parked_later(op, sig, 0);
    else
      waiters_.push(op);
  }
  void unpark(scheduler&, op_block* op) noexcept override {
    op_queue<scheduler_operation> keep;
    while (scheduler_operation* w = waiters_.pop())
      if (w != op)
        keep.push(w);
    waiters_.splice(keep);
  }

  /// Running thread: match pending signals with waiters.
  void deliver() {
    while (!waiters_.empty()) {
      int sig = take_pending();
      if (!sig)
        return;
      sched_.complete_parked_later(static_cast<op_block*>(waiters_.pop()), sig, 0);
    }
  }
  /// Running thread: every wait completes with operation_aborted.
  void cancel_waits() noexcept {
    while (scheduler_operation* w = waiters_.pop())
      sched_.complete_parked_later(static_cast<op_block*>(w), -ECANCELED, 0);
  }

  // Posted to the set's own context: signals arrived (from any context's reader).
  struct notify_op : scheduler_operation {
    explicit notify_op(signal_set_impl* s) : scheduler_operation(&run), set(s) {}
    static void run(scheduler* owner, scheduler_operation* base) {
      signal_set_impl* set = static_cast<notify_op*>(base)->set;
      bool dying;
      {
        std::lock_guard<std::mutex> lock(global().mutex);
        set->notify_posted = false;
        dying = set->dying;
      }
      if (owner) {
        owner->mark_internal();
        if (!dying)
          set->deliver();
      }
      if (dying)
        delete set;
    }
    signal_set_impl* set;
  } notify{this};

  // Posted when the set is cancelled or destroyed off its context's thread.
  struct request : scheduler_operation {
    request(signal_set_impl* s, bool d) : scheduler_operation(&run), set(s), destroy(d) {}
    static void run(scheduler* owner, scheduler_operation* base) {
      auto* self = static_cast<request*>(base);
      signal_set_impl* set = self->set;
      bool destroy = self->destroy;
      delete self;
      if (owner)
        owner->mark_internal();
      set->cancel_waits();
      if (destroy)
        set->finish_destroy();
    }
    signal_set_impl* set;
    bool destroy;
  };

  void finish_destroy() noexcept {
    {
      std::lock_guard<std::mutex> lock(global().mutex);
      if (notify_posted) { // the queued notification frees it
        dying = true;
        return;
      }
    }
    delete this;
  }

private:
  int take_pending() {
    std::lock_guard<std::mutex> lock(global().mutex);
    for (int i = 1; i < max_signal; ++i)
      if (pending[i]) {
        --pending[i];
        return i;
      }
    return 0;
  }
  void ensure_reader(scheduler& s) {
    global_state& g = global();
    signal_reader* reader = nullptr;
    {
      std::lock_guard<std::mutex> lock(g.mutex);
      for (auto& r : g.readers)
        if (r.first == &s)
          return;
      if (g.read_fd < 0)
        return;
      reader = new signal_reader(g.read_fd);
      g.readers.emplace_back(&s, reader);
    }
    reader->arm(s);
  }

  scheduler& sched_;
  op_queue<scheduler_operation> waiters_; // running thread only
};

namespace {
void dispatch(unsigned char signal_number) {
  global_state& g = global();
  std::lock_guard<std::mutex> lock(g.mutex);
  if (signal_number >= max_signal)
    return;
  for (signal_set_impl* set : g.sets)
    if (set->registered[signal_number]) {
      ++set->pending[signal_number];
      if (!set->notify_posted) {
        set->notify_posted = true;
        set->sched().post(&set->notify);
      }
    }
}

void unregister(global_state& g, signal_set_impl* impl, int n) {
  impl->registered[n] = false;
  impl->pending[n] = 0;
  if (--g.registrations[n] == 0)
    ::sigaction(n, &g.previous[n], nullptr);
}
} // namespace

signal_set_impl* signal_set_create(scheduler& s) {
  auto* impl = new signal_set_impl(s);
  global_state& g = global();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.sets.push_back(impl);
  return impl;
}

void signal_set_destroy(signal_set_impl* impl) noexcept {
  {
    global_state& g = global();
    std::lock_guard<std::mutex> lock(g.mutex);
    for (int i = 1; i < max_signal; ++i)
      if (impl->registered[i])
        unregister(g, impl, i);
    std::erase(g.sets, impl);
  }
  if (impl->sched().running_in_this_thread()) {
    impl->cancel_waits();
    impl->finish_destroy();
    return;
  }
  impl->sched().post(new signal_set_impl::request(impl, true));
}

boost::system::error_code signal_set_add(signal_set_impl* impl, int n) {
  if (n <= 0 || n >= max_signal || n == SIGKILL || n == SIGSTOP)
    return boost::asio::error::invalid_argument;
  global_state& g = global();
  std::lock_guard<std::mutex> lock(g.mutex);
  if (impl->registered[n])
    return {};
  if (auto ec = open_pipe(g))
    return ec;
  if (g.registrations[n] == 0) {
    struct sigaction sa {};
    sa.sa_handler = &asio_uring_on_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (::sigaction(n, &sa, &g.previous[n]) < 0)
      return {errno, boost::system::system_category()};
  }
  ++g.registrations[n];
  impl->registered[n] = true;
  return {};
}

boost::system::error_code signal_set_remove(signal_set_impl* impl, int n) {
  if (n <= 0 || n >= max_signal)
    return boost::asio::error::invalid_argument;
  global_state& g = global();
  std::lock_guard<std::mutex> lock(g.mutex);
  if (impl->registered[n])
    unregister(g, impl, n);
  return {};
}

void signal_set_clear(signal_set_impl* impl) noexcept {
  global_state& g = global();
  std::lock_guard<std::mutex> lock(g.mutex);
  for (int i = 1; i < max_signal; ++i)
    if (impl->registered[i])
      unregister(g, impl, i);
}

void signal_set_cancel(signal_set_impl* impl) noexcept {
  if (impl->sched().running_in_this_thread()) {
    impl->cancel_waits();
    return;
  }
  impl->sched().post(new signal_set_impl::request(impl, false));
}

op_parking* signal_set_parking(signal_set_impl* impl) noexcept {
  return impl;
}

} // namespace asio_uring::detail
