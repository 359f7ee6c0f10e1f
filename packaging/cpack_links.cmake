# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): CPack's archiver stores hard links as full
# copies, so in the staged package tree every plugin that is the same file as tether-cni becomes a
# relative symlink to it (the multi-call binary dispatches on the name it was started as, which a
# symlink keeps). One 4 MB binary instead of one per plugin name.
file(GLOB_RECURSE multicalls LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*/tether-cni")
foreach(mc IN LISTS multicalls)
  get_filename_component(dir "${mc}" DIRECTORY)
  file(SHA256 "${mc}" want)
  file(GLOB entries LIST_DIRECTORIES false "${dir}/*")
  foreach(f IN LISTS entries)
    if(f STREQUAL mc OR IS_SYMLINK "${f}")
      continue()
    endif()
    file(SHA256 "${f}" have)
    if(have STREQUAL want)
      file(REMOVE "${f}")
      file(CREATE_LINK tether-cni "${f}" SYMBOLIC)
    endif()
  endforeach()
endforeach()
