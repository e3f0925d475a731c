// Optional run-time check of the safety invariant: which memory submitted SQEs may still touch.
#pragma once

#include <cstddef>

namespace asio_uring::detail {

/// True when the library was built with ASIO_URING_INVARIANT_CHECKS (the project's test builds).
bool invariant_checks_enabled() noexcept;

/// True if [p, p + n) overlaps memory that an SQE whose final CQE has not arrived points at.
/// Instrumented test buffers call this from their destructors. Always false when disabled.
bool kernel_may_access(const void* p, std::size_t n) noexcept;

/// How many op blocks were found in use by the kernel when they were about to be freed, plus
/// how many free (pooled) blocks were found written into (see canary_damaged_blocks).
std::size_t invariant_violations() noexcept;

/// Pooled op blocks are filled with a canary while free and checked when taken again or
/// released: how many were found damaged.
std::size_t canary_damaged_blocks() noexcept;

} // namespace asio_uring::detail
