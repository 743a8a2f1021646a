# Helpers to declare tests. Every test is a program; exit status 77 means "skipped".
#
#   pagemig_test(NAME LABEL unit|host|fuzz SOURCES src.c... [LIBS lib...] [ARGS arg...]
#                [TIMEOUT seconds])
#
# builds NAME from SOURCES, links LIBS (plus cmocka for unit tests), and registers it with CTest
# under LABEL.
function(pagemig_test name)
	cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS;ARGS" ${ARGN})
	if(NOT T_LABEL)
		message(FATAL_ERROR "pagemig_test(${name}): LABEL is required")
	endif()
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 120)
	endif()
	add_executable(${name} ${T_SOURCES})
	target_link_libraries(${name} PRIVATE ${T_LIBS})
	target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common)
	add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
	set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} SKIP_RETURN_CODE 77
		TIMEOUT ${T_TIMEOUT})
endfunction()
