# Installation layout and CPack packages (.deb and .tar.gz). Built by
# installer/package.sh.
include(GNUInstallDirs)

install(FILES resources/eventdesk.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES resources/io.eventdesk.EventDesk.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES resources/icons/eventdesk.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
foreach(size 32 64 128 256)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/resources/icons/eventdesk-${size}.png)
        install(FILES resources/icons/eventdesk-${size}.png DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
                RENAME eventdesk.png)
    endif()
endforeach()
install(FILES resources/man/eventdesk.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CPACK_PACKAGE_NAME eventdesk)
set(CPACK_PACKAGE_VENDOR "EventDesk")
set(CPACK_PACKAGE_CONTACT "EventDesk maintainers <eventdesk@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION games)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, qt6-qpa-plugins, libqt6svg6, libhiredis0.14")
set(CPACK_STRIP_FILES ON)
include(CPack)
