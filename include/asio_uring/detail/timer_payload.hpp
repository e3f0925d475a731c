// Payload of a timer wait: the kernel timespec lives in the op block; the op is linked into
// its timer's list so cancel() and expires_*() can find it.
#pragma once

#include <asio_uring/detail/op_block.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <linux/io_uring.h>
#include <linux/time_types.h>

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

/// How the expiry reaches the kernel.
struct timer_deadline {
  std::chrono::nanoseconds value; // absolute on the clock named by `flags`, or relative
  std::uint32_t flags;            // IORING_TIMEOUT_ABS [| IORING_TIMEOUT_REALTIME] or 0
};

class timer_payload {
public:
  static constexpr bool owned = false;
  timer_payload(timer_deadline d, timer_wait_list* list) : deadline_(d), list_(list) {}
  ~timer_payload() { hook_.unlink(); }

  int prepare(op_block& op) {
    sqe_args& a = op.sqe_;
    auto ns = deadline_.value.count();
    if (ns < 0)
      ns = 0;
    ts_.tv_sec = ns / 1'000'000'000;
    ts_.tv_nsec = ns % 1'000'000'000;
    a.opcode = IORING_OP_TIMEOUT;
    a.fd = -1;
    a.addr = reinterpret_cast<std::uint64_t>(&ts_);
    a.len = 1;
    a.off = 0; // no completion count: a pure timer
    a.op_flags = deadline_.flags;
    hook_.op = &op;
    list_->push(&hook_);
    return 1;
  }

  std::tuple<boost::system::error_code> take(int res, unsigned) {
    hook_.unlink();
    if (res == -ETIME || res == 0)
      return {boost::system::error_code()};
    return {boost::system::error_code(-res, boost::system::system_category())};
  }
  std::tuple<boost::system::error_code> take_aborted() {
    hook_.unlink();
    return {boost::asio::error::operation_aborted};
  }

private:
  __kernel_timespec ts_{};
  timer_deadline deadline_;
  timer_wait_list* list_;
  timer_wait_hook hook_;
};

} // namespace asio_uring::detail
