// asio_uring::buffer_pool: buffers registered with the ring, handed out as owned pooled_buffers
// that reads and writes use with IORING_OP_READ_FIXED / WRITE_FIXED.
#pragma once

#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/heap_buffer.hpp>
#include <asio_uring/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace asio_uring {

namespace detail {
/// The pool's memory and free list; shared by every pooled_buffer, so it outlives any operation
/// still using one of its buffers.
struct pool_state {
  pool_state(scheduler& s, std::size_t count, std::size_t size);
  ~pool_state();
  scheduler& sched;
  std::weak_ptr<void> sched_alive; // a pooled_buffer may outlive the context
  heap_buffer memory;
  std::size_t buffer_size;
  unsigned first_index;
  unsigned count;
  std::mutex mutex;
  std::vector<std::uint16_t> free;
};
} // namespace detail

/// One registered buffer, an owned buffer like any other. Destroying it gives it back to its
/// pool. Reads and writes given one use the fixed-buffer opcodes.
class pooled_buffer {
public:
  pooled_buffer() noexcept = default;
  pooled_buffer(pooled_buffer&& o) noexcept
      : pool_(std::move(o.pool_)), index_(o.index_), data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)) {}
  pooled_buffer& operator=(pooled_buffer&& o) noexcept {
    if (this != &o) {
      give_back();
      pool_ = std::move(o.pool_);
      index_ = o.index_;
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~pooled_buffer() { give_back(); }

  std::byte* data() noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return data_ == nullptr; }
  /// The index in the ring's registered-buffer table.
  unsigned index() const noexcept { return pool_ ? pool_->first_index + index_ : 0; }

private:
  friend class buffer_pool;
  pooled_buffer(std::shared_ptr<detail::pool_state> p, std::uint16_t i) noexcept
      : pool_(std::move(p)), index_(i),
        data_(pool_->memory.data() + static_cast<std::size_t>(i) * pool_->buffer_size),
        size_(pool_->buffer_size) {}
  void give_back() noexcept {
    if (pool_ && data_) {
      std::lock_guard<std::mutex> lock(pool_->mutex);
      pool_->free.push_back(index_);
    }
    pool_.reset();
    data_ = nullptr;
    size_ = 0;
  }
  std::shared_ptr<detail::pool_state> pool_;
  std::uint16_t index_ = 0;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

template <>
struct buffer_traits<pooled_buffer> {
  static std::byte* data(pooled_buffer& b) noexcept { return b.data(); }
  static std::size_t size(const pooled_buffer& b) noexcept { return b.size(); }
  static unsigned fixed_index(const pooled_buffer& b) noexcept { return b.index(); }
};

/// `count` buffers of `buffer_size` bytes (page-aligned, so also fit for O_DIRECT), registered
/// with the context's ring. Create it before the context runs or on its running thread.
/// Throws boost::system::system_error if the kernel refuses (RLIMIT_MEMLOCK: the message says
/// how to raise it).
class buffer_pool {
public:
  buffer_pool(io_context& ctx, std::size_t count, std::size_t buffer_size)
      : state_(std::make_shared<detail::pool_state>(ctx.impl(), count, buffer_size)) {}

  /// A free buffer, or nothing if all are in use.
  std::optional<pooled_buffer> try_acquire() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->free.empty())
      return std::nullopt;
    std::uint16_t i = state_->free.back();
    state_->free.pop_back();
    return pooled_buffer(state_, i);
  }
  std::size_t available() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->free.size();
  }
  std::size_t size() const noexcept { return state_->count; }
  std::size_t buffer_size() const noexcept { return state_->buffer_size; }

private:
  std::shared_ptr<detail::pool_state> state_;
};

} // namespace asio_uring
