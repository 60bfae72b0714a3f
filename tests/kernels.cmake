# SIMD kernel sets against the scalar reference (tests/test_kernels.c) and
# the kernel timing program (bench/kernels_bench.c, not a test: it reports
# speed, never asserts it).
ingot_test(test_kernels LAYERS base format tensor)
# The thread pool: barrier and the run-time work counter (tests/test_pool.c).
ingot_test(test_pool LAYERS base)
add_executable(kernels_bench ${CMAKE_SOURCE_DIR}/bench/kernels_bench.c)
target_link_libraries(kernels_bench PRIVATE ingot_base ingot_format ingot_tensor ${INGOT_DEPS})
target_include_directories(kernels_bench PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
# Packed weight layouts and every set's packed kernels (tests/test_pack.c).
ingot_test(test_pack LAYERS base format tensor)
add_executable(matmul_bench ${CMAKE_SOURCE_DIR}/bench/matmul_bench.c)
target_link_libraries(matmul_bench PRIVATE ingot_base ingot_format ingot_tensor ${INGOT_DEPS})
target_include_directories(matmul_bench PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
