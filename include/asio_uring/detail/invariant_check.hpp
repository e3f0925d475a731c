// Optional run-time check of the safety invariant: which memory submitted SQEs may still touch.
#pragma once

#include <cstddef>

namespace asio_uring::detail {

/// True when the library was built with ASIO_URING_INVARIANT_CHECKS (the project's test builds).
bool invariant_checks_enabled() noexcept;

/// True if [p, p + n) overlaps memory that an SQE whose final CQE has not arrived points at.
/// Instrumented test buffers call this from their destructors. Always false when disabled.
bool kernel_may_access(const void* p, std::size_t n) noexcept;

/// How many op blocks were found in use by the kernel when they were about to be freed.
std::size_t invariant_violations() noexcept;

} // namespace asio_uring::detail
