// The unit of work in a scheduler's queue, and an intrusive FIFO of them.
#pragma once

namespace asio_uring::detail {

class scheduler;

/// A queued item: a posted function, an immediate completion, or an op waiting to be submitted.
/// `func_` is called with the owning scheduler to run it, or with nullptr to destroy it unrun.
class scheduler_operation {
public:
  using func_type = void (*)(scheduler* owner, scheduler_operation* op);

  void complete(scheduler& owner) { func_(&owner, this); }
  void destroy() { func_(nullptr, this); }
  bool is(func_type f) const noexcept { return func_ == f; }

protected:
  explicit scheduler_operation(func_type f) noexcept : func_(f) {}
  ~scheduler_operation() = default;

private:
  template <class>
  friend class op_queue;
  scheduler_operation* next_ = nullptr;
  func_type func_;
};

/// Intrusive singly linked FIFO; owns nothing.
template <class Op>
class op_queue {
public:
  op_queue() = default;
  op_queue(const op_queue&) = delete;
  op_queue& operator=(const op_queue&) = delete;

  bool empty() const noexcept { return front_ == nullptr; }
  Op* front() const noexcept { return front_; }

  void push(Op* op) noexcept {
    op->next_ = nullptr;
    if (back_)
      back_->next_ = op;
    else
      front_ = op;
    back_ = op;
  }

  Op* pop() noexcept {
    Op* op = front_;
    if (op) {
      front_ = static_cast<Op*>(op->next_);
      if (!front_)
        back_ = nullptr;
      op->next_ = nullptr;
    }
    return op;
  }

  template <class F>
  void for_each(F f) const {
    for (Op* op = front_; op; op = static_cast<Op*>(op->next_))
      f(op);
  }

  /// Moves every item of `other` to the back of this queue.
  void splice(op_queue& other) noexcept {
    if (other.empty())
      return;
    if (back_)
      back_->next_ = other.front_;
    else
      front_ = other.front_;
    back_ = other.back_;
    other.front_ = other.back_ = nullptr;
  }

private:
  Op* front_ = nullptr;
  Op* back_ = nullptr;
};

} // namespace asio_uring::detail
