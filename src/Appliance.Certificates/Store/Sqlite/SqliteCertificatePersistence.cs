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

    public StoreView Read()
    {
        using var connection = _database.Open();
        return _reader.Read(connection, null);
    }

    public T Write<T>(Func<ICertificateTransaction, T> change)
    {
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = change(new SqliteCertificateTransaction(connection, transaction, _reader, _time));
            transaction.Commit();
            return result;
        }
    }

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
