using Appliance.Storage;

namespace Appliance.Certificates.Store;

/// <summary>
/// The certificate store's state in the SQLite state database (<see cref="CertificateSchema"/>). Writes are serialised
/// by a lock and each is one immediate transaction, so a refused operation changes nothing.
/// </summary>
internal sealed class SqliteCertificatePersistence : ICertificatePersistence
{
    private readonly StateDatabase _database;
    private readonly SqliteViewReader _reader;
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();

    public SqliteCertificatePersistence(StateDatabase database, EntryCache entries, ChainIndex chains, TimeProvider time)
    {
        _database = database;
        _time = time;
        _database.Migrate(CertificateSchema.Module, CertificateSchema.Migrations);
        _reader = new SqliteViewReader(entries, chains);
    }

    /// <summary>
    /// The view, read from the database only after a write: every change to these tables goes through
    /// <see cref="Write{T}"/> (one process owns the state directory), and a view is immutable, so the pages, the API,
    /// the selection snapshot and the address settings share one read instead of each making their own (a full read is
    /// ~150 ms with 10,000 certificates).
    /// </summary>
    public StoreView Read()
    {
        var generation = Volatile.Read(ref _generation);
        if (Volatile.Read(ref _cached) is { } cached && cached.Generation == generation) return cached.View;
        StoreView view;
        using (var connection = _database.Open())
            view = _reader.Read(connection, null);
        // Tagged with the generation seen before reading: a write that committed meanwhile moved the generation on,
        // so this view is never taken for a newer one.
        Volatile.Write(ref _cached, new CachedView(generation, view));
        return view;
    }

    public T Write<T>(Func<ICertificateTransaction, T> change)
    {
        lock (_writeLock)
        {
            try
            {
                using var connection = _database.Open();
                using var transaction = connection.BeginTransaction(deferred: false);
                var result = change(new SqliteCertificateTransaction(connection, transaction, _reader, _time));
                transaction.Commit();
                return result;
            }
            finally
            {
                // Also after a failed commit: whether it reached the disk is not known here.
                Interlocked.Increment(ref _generation);
            }
        }
    }

    private sealed record CachedView(long Generation, StoreView View);

    private long _generation;
    private CachedView? _cached;

    public byte[]? SealedKey(string keyId)
    {
        using var connection = _database.Open();
        return SqliteCertificateTransaction.SealedKey(connection, null, keyId);
    }

    public IReadOnlyList<(string KeyId, byte[] Sealed)> SealedKeys()
    {
        using var connection = _database.Open();
        return SqliteCertificateTransaction.SealedKeys(connection, null);
    }
}
