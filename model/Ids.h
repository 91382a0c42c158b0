// Ids as the engine wants them: UUIDs. A later engine refuses anything else,
// and one such row fails its whole fetch batch, so every id EventDesk makes is
// a UUID; names people read (worlds, characters) are display names kept apart.
#pragma once

#include "AppEvent.h"

#include <QString>
#include <QStringList>

namespace eventdesk::ids {

bool isUuid(const QString &text);
QString newUuid();
// The same name in the same world is always the same id (a name-based UUID,
// version 5): a player who types "Aria" twice rolls as one character.
QString characterUuid(const QString &worldId, const QString &name);
QString worldUuid(const QString &name);
// The id fields of an event (…_id, set and not empty) that are not UUIDs, as "field=value".
QStringList nonUuidIds(const AppEvent &event);

} // namespace eventdesk::ids
