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
  endif()
endfunction()
