using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Appliance.Storage;

/// <summary>
/// The SQL helpers every module uses on a <see cref="StateDatabase"/> connection: a command with named parameters
/// (null as SQL NULL), a statement run for its row count, a single value. Written once so parameter handling is the same everywhere.
/// </summary>
public static class Sql
{
    /// <summary>A command on <paramref name="connection"/> in <paramref name="transaction"/>; the caller disposes it.</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>Runs a statement; returns the number of rows it changed.</summary>
    public static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row, or null when there is no row or it is NULL.</summary>
    public static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>The first column of the first row as <typeparamref name="T"/> (a SQLite integer is a long); default when there is no row.</summary>
    public static T? Scalar<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters) =>
        Scalar(connection, transaction, sql, parameters) is { } value ? (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture) : default;
}
