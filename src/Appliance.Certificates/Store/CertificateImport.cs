using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Import of uploaded files. Certificates are kept once (the same certificate twice is the same entry); a key is
/// matched to its certificate by public key, completes a pending certificate request, or waits for its certificate.
/// A certificate with the same subject and key as a stored one and a later expiration renews it (renewal by import).
/// </summary>
internal sealed class CertificateImport(ICertificatePersistence persistence, VaultKeys keys, EntryCache entries, ChainIndex chains)
{
    public const int MaxFilesPerImport = 20;

    public ImportResult Import(IReadOnlyList<ImportFile> files, string? password, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "No file was uploaded; choose one or more certificate or key files.");
        if (files.Count > MaxFilesPerImport)
            throw new CertificateStoreException(StoreFailure.Invalid, $"{files.Count} files were uploaded; import at most {MaxFilesPerImport} at a time.");

        var parsed = new List<ParsedFile>();
        try
        {
            // One key-derivation budget for the whole import; an aborted request stops between encrypted elements.
            var budget = new KeyDerivationBudget(cancellationToken);
            foreach (var file in files) parsed.Add(CertificateFileReader.Read(file, password, budget));
            return ImportParsed(parsed);
        }
        finally
        {
            foreach (var key in parsed.SelectMany(p => p.Keys)) key.Dispose();
        }
    }

    private ImportResult ImportParsed(List<ParsedFile> parsed)
    {
        // Distinct certificates and keys across all files, remembering the file each came from for messages.
        var certificates = new Dictionary<string, (CertificateEntry Entry, string File)>();
        foreach (var file in parsed)
            foreach (var certificate in file.Certificates)
            {
                var entry = entries.Of(certificate);
                certificates.TryAdd(entry.Sha256, (entry, file.FileName));
            }
        var importedKeys = new Dictionary<string, PrivateKeyMaterial>();
        foreach (var file in parsed)
            foreach (var key in file.Keys)
            {
                var hash = CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo);
                importedKeys.TryAdd(hash, key);
                if (file.Certificates.Count > 0 && !file.Certificates.Any(c => CertificateFacts.PublicKeyHash(c.PublicKey.ExportSubjectPublicKeyInfo()) == hash))
                    throw new CertificateImportException(ImportFailureReason.KeyDoesNotMatch, file.FileName,
                        $"{file.FileName}: the private key in this file belongs to none of the certificates in it; upload the key that was made with this certificate.");
            }
        if (certificates.Count == 0 && importedKeys.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "The uploaded files hold no certificate and no private key.");

        var warnings = new List<string>();
        var importedIds = persistence.Write(transaction =>
        {
            var before = transaction.View;
            var pool = before.Entries.Concat(certificates.Values.Select(c => c.Entry)).ToList();
            foreach (var (entry, file) in certificates.Values)
                VerifySignature(entry, file, pool);

            var ids = new List<string>();
            var inserted = new List<CertificateEntry>();
            foreach (var (entry, _) in certificates.Values)
            {
                var facts = entry.Data.Facts;
                var id = StoreIds.Certificate(facts);
                ids.Add(id);
                if (before.Find(id) is not null) continue;
                var request = before.Requests.FirstOrDefault(r => r.CertificateId is null && before.KeyPublicKeyHashes.GetValueOrDefault(r.KeyId) == facts.PublicKeySha256);
                var friendlyName = request?.FriendlyName ?? FriendlyNames.Unique(FriendlyNames.Default(facts), before.Certificates);
                transaction.InsertCertificate(id, entry, friendlyName, CertificateSource.Imported);
                inserted.Add(entry);
                if (request is not null)
                {
                    transaction.CompleteRequest(request.Id, id);
                    warnings.Add($"The certificate completes the certificate request '{request.FriendlyName}'.");
                }
            }
            foreach (var key in importedKeys.Values) keys.AddIfNew(transaction, key);
            foreach (var entry in inserted) warnings.AddRange(RenewByImport(transaction, entry));
            return ids;
        });

        var after = persistence.Read();
        var resultCertificates = importedIds.Distinct().Select(after.Get).ToList();
        var resultKeys = importedKeys.Keys.Select(h => after.Keys.First(k => k.Id == StoreIds.Key(h))).ToList();
        foreach (var certificate in resultCertificates.Where(c => !c.ChainComplete))
            warnings.Add($"'{certificate.FriendlyName}': {StoredCertificate.IncompleteChainWarning}.");
        foreach (var key in resultKeys.Where(k => k.CertificateId is null))
            warnings.Add($"The private key ({KeyTypeServing.Name(key.Algorithm)} {key.KeySize}) is kept and waits for its certificate; import the certificate to join them.");
        return new ImportResult(resultCertificates, resultKeys, warnings);
    }

    /// <summary>
    /// Renewal by import: a stored server certificate with the same subject and key and an earlier expiration is
    /// renewed by <paramref name="renewal"/>, which takes over its default setting and address assignments at once;
    /// the old one stays until the admin deletes it. Returns what was said about each.
    /// </summary>
    private static List<string> RenewByImport(ICertificateTransaction transaction, CertificateEntry renewal)
    {
        var said = new List<string>();
        var facts = renewal.Data.Facts;
        if (facts.IsCertificateAuthority) return said;
        var before = transaction.View;
        var id = StoreIds.Certificate(facts);
        foreach (var old in before.Certificates.Where((o, i) =>
                     !o.IsFactory && !o.Facts.IsCertificateAuthority &&
                     o.Facts.PublicKeySha256 == facts.PublicKeySha256 &&
                     before.Entries[i].Data.SubjectName.AsSpan().SequenceEqual(renewal.Data.SubjectName) &&
                     o.Facts.NotAfter < facts.NotAfter))
        {
            var takenOver = new List<string>();
            if (old.IsDefault)
            {
                transaction.SetDefault(id);
                takenOver.Add("the default certificate");
            }
            foreach (var address in old.BoundAddresses)
            {
                transaction.Assign(address, id);
                takenOver.Add(address);
            }
            said.Add(takenOver.Count == 0
                ? $"The certificate renews '{old.FriendlyName}' (expiring {old.Facts.NotAfter:yyyy-MM-dd}); the old certificate stays until you delete it."
                : $"The certificate renews '{old.FriendlyName}' (expiring {old.Facts.NotAfter:yyyy-MM-dd}) and took over {string.Join(", ", takenOver)}; the old certificate stays until you delete it.");
        }
        return said;
    }

    private void VerifySignature(CertificateEntry certificate, string file, List<CertificateEntry> pool)
    {
        var issuers = pool.Where(c => certificate.Data.MayBeIssuedBy(c.Data)).ToList();
        if (issuers.Count == 0) return; // Issuer not here (yet): reported as an incomplete chain, not refused.
        if (issuers.Any(issuer => chains.IsIssuedBy(certificate, issuer))) return;
        var facts = certificate.Data.Facts;
        throw new CertificateImportException(ImportFailureReason.SignatureInvalid, file,
            $"{file}: the signature of certificate '{facts.CommonName ?? facts.Subject}' does not verify against its issuer '{facts.Issuer}'; the file is damaged or was not issued by that authority. Get the certificate again from your CA.");
    }
}
