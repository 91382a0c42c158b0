// Result<T>: a value or an Error that says what went wrong. Used across the
// codec, the ports and the adapters so that failures are values, never exceptions.
#pragma once

#include <QMetaType>
#include <QString>

#include <utility>
#include <variant>

namespace eventdesk {

enum class ErrorCode {
    BadJson,       // not JSON, not one object, trailing garbage, too deep
    InvalidEvent,  // JSON, but not a valid AppEvent (missing/mistyped field, unknown variant)
    TooLarge,      // over a size limit
    Storage,       // the store failed (I/O, corrupt file, wrong schema)
    Busy,          // the store stayed locked past the retry budget
    NotFound,
    Unavailable,   // the backend cannot be reached
    Usage,         // a caller passed something that cannot work
};

struct Error {
    ErrorCode code = ErrorCode::Storage;
    QString field;    // the JSON field at fault, if any; "desk" when EventDesk's own database beside the log failed
    QString message;  // one clear sentence for a person; names the field when there is one
};

template <typename T>
class Result
{
public:
    Result() : m_data(Error{ErrorCode::Usage, {}, QStringLiteral("no result")}) {}
    Result(T value) : m_data(std::move(value)) {}
    Result(Error error) : m_data(std::move(error)) {}

    bool ok() const { return m_data.index() == 0; }
    explicit operator bool() const { return ok(); }

    const T &value() const & { return std::get<0>(m_data); }
    T &value() & { return std::get<0>(m_data); }
    // By value: a temporary Result in a range-for must not leave a dangling reference.
    T value() && { return std::get<0>(std::move(m_data)); }
    const T *operator->() const { return &std::get<0>(m_data); }
    const T &operator*() const & { return std::get<0>(m_data); }

    const Error &error() const { return std::get<1>(m_data); }

private:
    std::variant<T, Error> m_data;
};

} // namespace eventdesk

Q_DECLARE_METATYPE(eventdesk::Error)
