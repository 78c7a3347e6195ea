# _huaweicloud: the native core of huaweicloud (the client is frozen Python)
# (qpy_rust.h). The Rust staticlib is linked by umqtt's micropython.cmake.
add_library(usermod_huaweicloud INTERFACE)

target_sources(usermod_huaweicloud INTERFACE ${CMAKE_CURRENT_LIST_DIR}/modhuaweicloud.c)
target_include_directories(usermod_huaweicloud INTERFACE ${CMAKE_CURRENT_LIST_DIR}/..)

target_link_libraries(usermod INTERFACE usermod_huaweicloud)
