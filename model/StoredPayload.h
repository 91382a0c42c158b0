// What every store writes for an event: its encoded payload, refused when it
// is over the codec's document limit (so nothing is stored that cannot be read).
#pragma once

#include "EventCodec.h"
#include "Result.h"

namespace eventdesk {

inline Result<QByteArray> storedPayload(const AppEvent &event)
{
    QByteArray payload = codec::encode(event);
    if (payload.size() > codec::MaxDocumentBytes)
        return Error{ErrorCode::TooLarge, {},
                     QStringLiteral("the event is %1 bytes, over the limit of %2").arg(payload.size()).arg(codec::MaxDocumentBytes)};
    return payload;
}

} // namespace eventdesk
