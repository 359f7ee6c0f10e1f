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

_tether_signals() {
    printf '%s\n' HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH
}

# Succeeds when FLAG of VERB takes a value (the next word is its value, not a positional).
_tether_takes_value() {
    local verb=$1 flag=$2
    case "$verb" in
    run | create)
        [[ "$flag" =~ ^(--name|--rootfs|--image|-v|--volume|--hostname|-e|--env|--env-file|-w|--workdir|-u|--user|--cap-add|--cap-drop|--security-opt|--device|-m|--memory|--memory-swap|--pids|--pids-limit|--cpus|-c|--cpu-shares|--ulimit|--net|--network|-p|--publish|--ip|--mac-address|--dns|--dns-search|--dns-option|--add-host|--pid|--ipc|--stop-signal|--stop-timeout|--log-opt)$ ]]
        ;;
    exec) [[ "$flag" =~ ^(-e|--env|--env-file|-w|--workdir|-u|--user)$ ]] ;;
    stop | restart) [[ "$flag" =~ ^(-t|--time)$ ]] ;;
    kill) [[ "$flag" =~ ^(-s|--signal)$ ]] ;;
    logs) [[ "$flag" =~ ^(-n|--tail)$ ]] ;;
    ps) [[ "$flag" == --format ]] ;;
    net) [[ "$flag" =~ ^(--id|--ifname|--args|--cap)$ ]] ;;
    *) return 1 ;;
    esac
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
    local verbs="net netns fixture run create start stop restart kill wait logs ps inspect exec pause
                 resume unpause rm gc"
    local verb="" sub="" i npos=0
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
        -*=*) ;;
        -*)
            # A flag's value is not a positional (exec -e K=V ID: ID is the first positional).
            [[ -n "$verb" ]] && _tether_takes_value "$verb" "${words[i]}" && i=$((i + 1))
            ;;
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
    run | create)
        # Everything after the first positional is the container's command.
        ((npos > 0)) && { COMPREPLY=($(compgen -f -- "$cur")); return; }
        case "$prev" in
        --net | --network)
            COMPREPLY=($(compgen -W "$(_tether_networks) none host" -- "$cur"))
            return
            ;;
        --rootfs | --image | -w | --workdir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        --env-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --stop-signal)
            COMPREPLY=($(compgen -W "$(_tether_signals)" -- "$cur"))
            return
            ;;
        --device)
            COMPREPLY=($(compgen -f -- "${cur:-/dev/}"))
            return
            ;;
        --security-opt)
            COMPREPLY=($(compgen -W "seccomp=unconfined no-new-privileges" -- "$cur"))
            return
            ;;
        --log-opt)
            COMPREPLY=($(compgen -W "max-size=" -- "$cur"))
            return
            ;;
        --pid | --ipc)
            COMPREPLY=($(compgen -W "host $(_tether_containers | sed 's/^/container:/')" -- "$cur"))
            return
            ;;
        *)
            _tether_takes_value "$verb" "$prev" && return
            ;;
        esac
        flags="--name -d --detach -i --interactive -t --tty --rm --rootfs --image --read-only -v
               --volume --hostname -e --env --env-file -w --workdir -u --user --cap-add --cap-drop
               --security-opt --device --init --userns -m --memory --memory-swap --pids --pids-limit --cpus
               -c --cpu-shares --ulimit --net --network -p --publish --ip --mac-address --dns
               --dns-search --dns-option --add-host --pid --ipc --stop-signal --stop-timeout
               --log-opt --help"
        ;;
    start | stop | restart | wait | inspect | pause | resume | unpause | rm | exec | kill | logs)
        case "$prev" in
        -s | --signal)
            [[ "$verb" == kill ]] && { COMPREPLY=($(compgen -W "$(_tether_signals)" -- "$cur")); return; }
            ;;
        *)
            _tether_takes_value "$verb" "$prev" && return
            ;;
        esac
        case "$verb" in
        stop | restart) flags="-t --time --help" ;;
        exec) flags="-e --env --env-file -w --workdir -u --user -t --tty -i --interactive --help" ;;
        kill) flags="-s --signal --help" ;;
        logs) flags="-f --follow -n --tail -t --timestamps --help" ;;
        inspect) flags="--raw --help" ;;
        rm) flags="-f --force --help" ;;
        *) flags="--help" ;;
        esac
        if [[ "$cur" != -* ]]; then
            case "$verb" in
            exec | logs | kill)
                # One container, then (exec) the command or (kill) a signal.
                if ((npos == 0)); then
                    COMPREPLY=($(compgen -W "$(_tether_containers)" -- "$cur"))
                elif [[ "$verb" == kill ]] && ((npos == 1)); then
                    COMPREPLY=($(compgen -W "$(_tether_signals)" -- "$cur"))
                elif [[ "$verb" == exec ]]; then
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                ;;
            *) COMPREPLY=($(compgen -W "$(_tether_containers)" -- "$cur")) ;;
            esac
            return
        fi
        ;;
    ps)
        if [[ "$prev" == --format ]]; then
            COMPREPLY=($(compgen -W "table json" -- "$cur"))
            return
        fi
        flags="-a --all -q --quiet --no-trunc --format --help"
        ;;
    gc) flags="--help" ;;
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
