# umqtt: QuecPython-compatible MQTT client over the Rust core (qpy_rust.h).
add_library(usermod_umqtt INTERFACE)

target_sources(usermod_umqtt INTERFACE ${CMAKE_CURRENT_LIST_DIR}/modumqtt.c)
target_include_directories(usermod_umqtt INTERFACE ${CMAKE_CURRENT_LIST_DIR}/..)

# The one Rust staticlib of the firmware (it carries every module's core).
if(NOT QPY_RUST_LIB)
    set(QPY_RUST_LIB ${CMAKE_CURRENT_LIST_DIR}/../../target/release/libqpy_rust.a)
endif()
target_link_libraries(usermod_umqtt INTERFACE ${QPY_RUST_LIB})

target_link_libraries(usermod INTERFACE usermod_umqtt)
