namespace Appliance;

/// <summary>
/// Every log event id of the service, one table so that ids stay unique and stable (journal filters and alerting
/// rules key on them). Each room owns a range; a new event takes the next free id of its room's range and is listed
/// in the README's "Log event ids". Ids are never reused for another meaning.
/// </summary>
internal static class EventIds
{
    /// <summary>1-99: start, stop and the host's own files.</summary>
    internal static class Hosting
    {
        public const int Listening = 1;
        public const int DataProtectionKeyNotWritten = 2;
        public const int DataProtectionKeyDamaged = 3;
        public const int SystemdNotifyFailed = 4;
    }

    /// <summary>20-39: the key vault.</summary>
    internal static class KeyVault
    {
        public const int Closed = 20;
        public const int TpmKeyCreated = 21;
        public const int MigratedToTpm = 22;
        public const int MigrationResumed = 23;
        public const int KeyNotLocked = 24;
    }

    /// <summary>1000-1099: the API and UI edge.</summary>
    internal static class Http
    {
        public const int Refused = 1001;
        public const int Failed = 1002;
        public const int RefusedStateFull = 1003;
    }

    /// <summary>1100-1199: the state partition.</summary>
    internal static class State
    {
        public const int WritesSkipped = 1101;
    }

    /// <summary>2000-2099: TLS selection, termination and OCSP stapling.</summary>
    internal static class Tls
    {
        public const int SnapshotBuilt = 2000;
        public const int SnapshotRebuildFailed = 2001;
        public const int ContextFailed = 2002;
        public const int HandshakeFailed = 2003;
        public const int OcspStapled = 2010;
        public const int OcspNoResponse = 2011;
        public const int OcspStapleExpired = 2012;
        public const int OcspRoundFailed = 2013;
    }

    /// <summary>2100-2199: the site forwarder.</summary>
    internal static class Site
    {
        public const int UpstreamFailed = 2101;
        public const int ClientEnded = 2102;
    }

    /// <summary>2200-2299: automated certificates (ACME) and renewal alerts.</summary>
    internal static class Acme
    {
        public const int Issued = 2201;
        public const int NotIssued = 2202;
        public const int RenewalAlert = 2203;
        public const int SchedulerFailed = 2204;
        public const int AlertNotMailed = 2205;
    }

    /// <summary>3000-3099: the audit log.</summary>
    internal static class Audit
    {
        public const int Entry = 3001;
        public const int AnonymousRefusalsSummarised = 3002;
        public const int UnsavedEntriesDropped = 3003;
        public const int RefusalCountsNotStored = 3004;
    }
}
