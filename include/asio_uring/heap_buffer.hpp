// asio_uring::heap_buffer: a fixed-size, optionally aligned byte buffer owned by one object.
#pragma once

#include <asio_uring/buffer_traits.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace asio_uring {

/// `unique_ptr<std::byte[]>` with a length. `heap_buffer(n, 4096)` gives memory aligned for
/// O_DIRECT. Moving leaves the source empty.
class heap_buffer {
public:
  heap_buffer() noexcept = default;
  explicit heap_buffer(std::size_t size, std::size_t alignment = alignof(std::max_align_t))
      : data_(
            static_cast<std::byte*>(::operator new(size ? size : 1, std::align_val_t(alignment)))),
        size_(size), alignment_(alignment) {}
  heap_buffer(heap_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        alignment_(o.alignment_) {}
  heap_buffer& operator=(heap_buffer&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      alignment_ = o.alignment_;
    }
    return *this;
  }
  ~heap_buffer() { reset(); }

  std::byte* data() noexcept { return data_; }
  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t alignment() const noexcept { return alignment_; }

private:
  void reset() noexcept {
    if (data_)
      ::operator delete(data_, std::align_val_t(alignment_));
    data_ = nullptr;
    size_ = 0;
  }
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t alignment_ = alignof(std::max_align_t);
};

template <>
struct buffer_traits<heap_buffer> {
  static std::byte* data(heap_buffer& b) noexcept { return b.data(); }
  static std::size_t size(const heap_buffer& b) noexcept { return b.size(); }
};

} // namespace asio_uring
