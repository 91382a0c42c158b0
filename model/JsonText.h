// Checks on JSON text before Qt's parser reads it, for what that parser would
// let through changed (model/EventCodec.cpp's parseObject runs them).
#pragma once

#include <QByteArrayView>
#include <QString>

#include <optional>

namespace eventdesk::jsontext {

// Where a string escapes half of a UTF-16 surrogate pair alone ("\ud800"):
// Qt's parser keeps it, and it becomes "?" on its way to disk, so the text
// stored would not be the text sent. Such input is refused instead.
std::optional<QString> loneSurrogate(QByteArrayView json);

} // namespace eventdesk::jsontext
