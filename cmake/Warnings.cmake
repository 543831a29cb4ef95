# Warning and sanitizer flags shared by every target of ours (not by generated code:
# proto/ opts out of -Werror because protoc's output is not ours to fix).
add_compile_options(-Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(KEEL_WERROR)
  add_compile_options(-Werror)
endif()

if(KEEL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(KEEL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KEEL_FUZZ needs clang (CXX=clang++)")
  endif()
  # Instrument everything for coverage; the fuzzer's main comes only with the targets.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
