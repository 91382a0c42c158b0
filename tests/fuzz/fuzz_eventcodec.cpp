// libFuzzer target for the AppEvent decoder: any input gives a value or an
// error, never a crash; whatever decodes encodes and decodes back to itself.
#include "EventCodec.h"
#include "SessionMessage.h"

#include <QJsonDocument>

#include <cstdint>
#include <cstdlib>

using namespace eventdesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Result<AppEvent> r = codec::decode(input);
    if (!r.ok()) {
        if (r.error().message.isEmpty())
            std::abort();
        return 0;
    }
    const QByteArray again = codec::encode(r.value());
    const Result<AppEvent> back = codec::decode(again);
    if (!back.ok() || !(back.value() == r.value()))
        std::abort();
    const QByteArray message = session::encodeEventMessage(r.value(), {1, QStringLiteral("1970-01-01T00:00:00Z"), false});
    QJsonParseError err;
    QJsonDocument::fromJson(message, &err);
    if (err.error != QJsonParseError::NoError)
        std::abort();
    (void)r->summary();
    return 0;
}
