namespace Appliance.Tpm;

/// <summary>Why the sealed vault key could not be sealed or unsealed.</summary>
public enum TpmVaultFailureReason
{
    /// <summary>The blob was sealed under another TPM's owner seed: disk moved to another box, or the TPM was cleared.</summary>
    SealedByOtherTpm,

    /// <summary>The PCRs the key is bound to hold other values than when it was sealed (boot chain changed).</summary>
    PcrMismatch,

    /// <summary>The TPM is in dictionary-attack lockout, still after the retries.</summary>
    TpmLockedOut,

    /// <summary>The TPM kept answering "busy" (RETRY, YIELDED, TESTING), still after the retries.</summary>
    TpmBusy,

    /// <summary>The stored blob is not a sealed vault key (truncated, or from another program).</summary>
    InvalidBlob,

    /// <summary>Any other TPM failure; the inner exception has the response code.</summary>
    TpmError,
}

/// <summary>A sealed vault key operation failed; <see cref="Reason"/> says why, the message says what to do.</summary>
public sealed class TpmVaultException : Exception
{
    internal TpmVaultException(TpmVaultFailureReason reason, string message, Exception? inner = null, IReadOnlyList<int>? mismatchedPcrs = null)
        : base(message, inner)
    {
        Reason = reason;
        MismatchedPcrs = mismatchedPcrs ?? [];
    }

    public TpmVaultFailureReason Reason { get; }

    /// <summary>For <see cref="TpmVaultFailureReason.PcrMismatch"/>: the PCR indices whose values changed since sealing.</summary>
    public IReadOnlyList<int> MismatchedPcrs { get; }

    /// <summary>The raw TPM response code behind the failure, if the TPM gave one.</summary>
    public uint? ResponseCode => (InnerException as TpmException)?.ResponseCode;
}
