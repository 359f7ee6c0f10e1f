# bash completion for tether(1): verbs, flags, container IDs (from the launcher's state dir),
# network names (`tether net ls`) and fixture names (`tether fixture ls`).
# Installed as /usr/share/bash-completion/completions/tether.

_tether_containers() {
    local dir="${TETHER_STATE_DIR:-/run/tether}" d
    for d in "$dir"/*/; do
        [[ -d "$d" ]] || continue
        d="${d%/}"
        d="${d##*/}"
        [[ "$d" == fixtures ]] && continue
        printf '%s\n' "$d"
    done
}

_tether_networks() {
    # First column of the NETWORK table, up to the blank line before the attachments.
    "${_tether_cmd:-tether}" net ls 2>/dev/null | awk 'NR == 1 { next } /^$/ { exit } { print $1 }'
}

_tether_fixtures() {
    "${_tether_cmd:-tether}" fixture ls 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_tether() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD - 1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local _tether_cmd="${words[0]}"
    local verbs="net netns run ps inspect exec kill pause resume rm gc fixture"
    local verb="" sub="" i npos=0
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
        -*) ;;
        *)
            if [[ -z "$verb" ]]; then
                verb="${words[i]}"
            elif [[ -z "$sub" && "$verb" =~ ^(net|netns|fixture)$ ]]; then
                sub="${words[i]}"
            else
                npos=$((npos + 1))
            fi
            ;;
        esac
    done

    if [[ -z "$verb" ]]; then
        COMPREPLY=($(compgen -W "$verbs --help --version" -- "$cur"))
        return
    fi

    local flags=""
    case "$verb" in
    run)
        case "$prev" in
        --net | --network)
            COMPREPLY=($(compgen -W "$(_tether_networks) none host" -- "$cur"))
            return
            ;;
        --rootfs | --image | -w | --workdir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        --name | --hostname | -e | --env | -u | --user | -m | --memory | --memory-swap | --pids | \
            --cpus | --cpu-shares | --ulimit | -p | --publish | -v | --volume | --cap-add | --cap-drop | \
            --pid | --ipc | --security-opt)
            return
            ;;
        esac
        flags="--name --rootfs --image --read-only -v --volume --hostname -e --env -w --workdir -u
               --user --cap-add --cap-drop --security-opt --init -d --detach --userns -m --memory
               --memory-swap --pids --cpus --cpu-shares --ulimit --net --network -p --publish --pid
               --ipc --help"
        ;;
    inspect | exec | kill | pause | resume | rm)
        case "$verb" in
        exec) flags="-e --env -w --workdir --help" ;;
        rm) flags="-f --force --help" ;;
        *) flags="--help" ;;
        esac
        if [[ "$cur" != -* ]] && { [[ "$verb" == rm ]] || ((npos == 0)); }; then
            COMPREPLY=($(compgen -W "$(_tether_containers)" -- "$cur"))
            return
        fi
        ;;
    ps | gc) flags="--help" ;;
    net)
        if [[ -z "$sub" ]]; then
            COMPREPLY=($(compgen -W "add del check status gc ls --help" -- "$cur"))
            return
        fi
        case "$sub" in
        add | del | check) flags="--id --ifname --args --cap --json --help" ;;
        status) flags="--json --help" ;;
        gc) flags="--all --json --help" ;;
        ls) flags="--json --help" ;;
        esac
        if [[ "$cur" != -* && "$sub" != ls ]]; then
            if ((npos == 0)); then
                COMPREPLY=($(compgen -W "$(_tether_networks)" -- "$cur"))
                return
            elif ((npos == 1)) && [[ "$sub" =~ ^(add|del|check)$ ]]; then
                local ns
                ns=$(compgen -f -- "$cur")
                [[ "$cur" != */* ]] && ns+=$'\n'$(compgen -P /run/netns/ -W "$(ls /run/netns 2>/dev/null)" -- "")
                COMPREPLY=($(compgen -W "$ns" -- "$cur"))
                return
            fi
        fi
        ;;
    netns)
        if [[ -z "$sub" ]]; then
            COMPREPLY=($(compgen -W "add del ls --help" -- "$cur"))
            return
        fi
        if [[ "$sub" == del ]]; then
            COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur"))
            return
        fi
        ;;
    fixture)
        if [[ -z "$sub" ]]; then
            COMPREPLY=($(compgen -W "up exec ls down gc --netns-dir --state-dir --help" -- "$cur"))
            return
        fi
        case "$sub" in
        up)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        down | exec)
            if ((npos == 0)) && [[ "$cur" != -* ]]; then
                COMPREPLY=($(compgen -W "$(_tether_fixtures)" -- "$cur"))
                return
            fi
            ;;
        ls) flags="--json --help" ;;
        esac
        ;;
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
}
complete -F _tether tether
