// A QR code of a short text (the player page's join link), drawn dark on light
// with the four-module quiet zone readers need, through libqrencode.
#pragma once

#include <QImage>

namespace eventdesk {

// moduleSize: pixels per module. A null image if the text cannot be encoded.
QImage qrCode(const QByteArray &text, int moduleSize);

} // namespace eventdesk
