// Payload of a timer wait; the op is linked into its timer's list so cancel() and expires_*()
// can find it.
#pragma once

#include <asio_uring/detail/op_block.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <cerrno>
#include <chrono>
#include <tuple>

namespace asio_uring::detail {

struct timer_wait_list;

/// One pending wait, linked into its timer's list until it completes.
struct timer_wait_hook {
  timer_wait_hook* prev = nullptr;
  timer_wait_hook* next = nullptr;
  timer_wait_list* list = nullptr;
  op_block* op = nullptr;
  void unlink() noexcept;
};

struct timer_wait_list {
  timer_wait_hook* head = nullptr;
  void push(timer_wait_hook* h) noexcept {
    h->list = this;
    h->prev = nullptr;
    h->next = head;
    if (head)
      head->prev = h;
    head = h;
  }
};

inline void timer_wait_hook::unlink() noexcept {
  if (!list)
    return;
  if (prev)
    prev->next = next;
  else
    list->head = next;
  if (next)
    next->prev = prev;
  list = nullptr;
  prev = next = nullptr;
}

/// A timer wait: no kernel memory; it waits in the scheduler's heap (one kernel timeout is
/// armed for the earliest deadline of the whole context).
class timer_payload {
public:
  static constexpr bool owned = false;
  timer_payload(std::int64_t deadline_ns, timer_wait_list* list)
      : deadline_ns_(deadline_ns), list_(list) {}
  ~timer_payload() { hook_.unlink(); }

  int prepare(op_block& op) {
    hook_.op = &op;
    list_->push(&hook_);
    return 1;
  }
  std::int64_t deadline_ns() const noexcept { return deadline_ns_; }

  std::tuple<boost::system::error_code> take(int res, unsigned) {
    hook_.unlink();
    if (res >= 0 || res == -ETIME)
      return {boost::system::error_code()};
    return {boost::system::error_code(-res, boost::system::system_category())};
  }
  std::tuple<boost::system::error_code> take_aborted() {
    hook_.unlink();
    return {boost::asio::error::operation_aborted};
  }

private:
  std::int64_t deadline_ns_;
  timer_wait_list* list_;
  timer_wait_hook hook_;
};

} // namespace asio_uring::detail
