# Every third-party library comes from Debian 12 packages (see scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(cpprestsdk CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(benchmark CONFIG REQUIRED)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

# BoringSSL: Debian's android build ships no CMake config. It must never share a
# process with OpenSSL (Debian's secure gRPC links OpenSSL 3): the dataplane links
# gRPC::grpc++_unsecure and is linked with --fatal-warnings so ld's "may conflict"
# warning stops the build.
set(BORINGSSL_LIBDIR /usr/lib/x86_64-linux-gnu/android)
set(BORINGSSL_INCLUDE /usr/include/android)
if(NOT EXISTS ${BORINGSSL_LIBDIR}/libssl.so OR NOT EXISTS ${BORINGSSL_INCLUDE}/openssl/base.h)
  message(FATAL_ERROR "BoringSSL not found: apt-get install android-libboringssl-dev")
endif()
add_library(BoringSSL::Crypto SHARED IMPORTED)
set_target_properties(BoringSSL::Crypto PROPERTIES
  IMPORTED_LOCATION ${BORINGSSL_LIBDIR}/libcrypto.so
  IMPORTED_NO_SONAME FALSE
  INTERFACE_INCLUDE_DIRECTORIES ${BORINGSSL_INCLUDE})
add_library(BoringSSL::SSL SHARED IMPORTED)
set_target_properties(BoringSSL::SSL PROPERTIES
  IMPORTED_LOCATION ${BORINGSSL_LIBDIR}/libssl.so
  INTERFACE_INCLUDE_DIRECTORIES ${BORINGSSL_INCLUDE}
  INTERFACE_LINK_LIBRARIES BoringSSL::Crypto)

# Installed binaries find the android BoringSSL through their RPATH (it is not in
# ld.so.conf); the build tree gets it from CMake automatically.
set(CMAKE_INSTALL_RPATH ${BORINGSSL_LIBDIR})
