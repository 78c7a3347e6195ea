# Entry point for CMake ports: USER_C_MODULES=<this file>.
include(${CMAKE_CURRENT_LIST_DIR}/umqtt/micropython.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/huaweicloud/micropython.cmake)
