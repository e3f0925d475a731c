# Per-target settings for the project's own targets (never CMAKE_CXX_FLAGS).
function(asio_uring_target_settings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(ASIO_URING_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ASIO_URING_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=${ASIO_URING_SANITIZE} -fno-omit-frame-pointer
                                            -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=${ASIO_URING_SANITIZE})
    if(ASIO_URING_SANITIZE MATCHES "thread")
      # gcc 12 warns that TSan ignores std::atomic_thread_fence, which Asio's headers use.
      target_compile_options(${target} PUBLIC -Wno-tsan)
    endif()
  endif()
endfunction()
