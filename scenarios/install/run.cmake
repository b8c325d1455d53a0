# Installs ringlab into a scratch prefix, then configures, builds and runs a tiny project
# that uses it through find_package(ringlab). Run by ctest (install.find_package_consumer).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
    endif()
endfunction()
step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib -G ${GENERATOR} -DRINGLAB_BUILD_TESTS=OFF
     -DRINGLAB_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX=${prefix})
step(${CMAKE_COMMAND} --install ${WORK_DIR}/lib)
step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/scenarios/install/consumer -B ${WORK_DIR}/consumer -G ${GENERATOR}
     -DCMAKE_PREFIX_PATH=${prefix})
step(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
step(${WORK_DIR}/consumer/consumer)
message(STATUS "find_package(ringlab) consumer built and ran against ${prefix}")
